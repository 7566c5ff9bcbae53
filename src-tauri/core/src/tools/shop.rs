//! A shop's data in SQLite (through `rusqlite`, with SQLite bundled): its
//! customers, their orders and the tickets the agent files. Sori keeps a
//! sample shop in its data folder so the agent can be tried at once; the
//! user can point it at their own file with the same tables.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::path::Path;
use std::sync::Mutex;

/// Why the shop's data could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("The shop's data could not be used: {0}")]
pub struct ShopError(#[from] rusqlite::Error);

/// The tables, as a shop's own file must have them too.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS customers (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, tier TEXT NOT NULL, language TEXT NOT NULL,
  cart_total INTEGER NOT NULL DEFAULT 0, currency TEXT NOT NULL DEFAULT 'KRW');
CREATE TABLE IF NOT EXISTS orders (
  number TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id), placed_on TEXT NOT NULL,
  status TEXT NOT NULL, carrier TEXT, tracking TEXT, expected_on TEXT);
CREATE TABLE IF NOT EXISTS order_items (
  order_number TEXT NOT NULL REFERENCES orders(number), name TEXT NOT NULL, quantity INTEGER NOT NULL, price INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
  number INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, summary TEXT NOT NULL, customer_id TEXT,
  created_at TEXT NOT NULL DEFAULT (datetime('now')));
";

/// A customer, as the agent is told about them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub tier: String,
    /// `ko` or `en`: the language they usually speak.
    pub language: String,
    pub cart_total: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    pub name: String,
    pub quantity: i64,
    pub price: i64,
}

/// An order, as `lookup_order` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    pub number: String,
    pub customer_id: String,
    pub placed_on: String,
    /// `preparing`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
    pub expected_on: Option<String>,
    pub items: Vec<Item>,
}

/// A ticket the agent filed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticket {
    pub number: i64,
    /// `complaint` or `callback`.
    pub kind: String,
    pub summary: String,
    pub customer_id: Option<String>,
}

/// A shop's data file, open.
pub struct Shop {
    db: Mutex<Connection>,
}

impl Shop {
    /// Opens (or creates) the shop at `path`, making the tables it lacks.
    pub fn open(path: &Path) -> Result<Shop, ShopError> {
        let db = Connection::open(path)?;
        db.execute_batch(SCHEMA)?;
        Ok(Shop { db: Mutex::new(db) })
    }

    /// Opens the shop at `path`, filling it with the sample shop when it has
    /// no customers yet.
    pub fn open_sample(path: &Path) -> Result<Shop, ShopError> {
        let shop = Shop::open(path)?;
        {
            let mut db = shop.db.lock().expect("shop");
            let customers: i64 = db.query_row("SELECT count(*) FROM customers", [], |r| r.get(0))?;
            if customers == 0 {
                let tx = db.transaction()?;
                tx.execute_batch(SAMPLE)?;
                tx.commit()?;
            }
        }
        Ok(shop)
    }

    pub fn customers(&self) -> Result<Vec<Customer>, ShopError> {
        let db = self.db.lock().expect("shop");
        let mut q = db.prepare("SELECT id, name, tier, language, cart_total, currency FROM customers ORDER BY id")?;
        let rows = q.query_map([], customer_row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    pub fn customer(&self, id: &str) -> Result<Option<Customer>, ShopError> {
        let db = self.db.lock().expect("shop");
        Ok(db
            .query_row("SELECT id, name, tier, language, cart_total, currency FROM customers WHERE id = ?1", [id.trim()], customer_row)
            .optional()?)
    }

    /// The order a customer names: its number as written (`A-1001`), or
    /// only its digits as people say it ("천일", "1001").
    pub fn order(&self, said: &str) -> Result<Option<Order>, ShopError> {
        let wanted: String = said.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
        let digits: String = said.chars().filter(char::is_ascii_digit).collect();
        let numbers = self.order_numbers("SELECT number FROM orders ORDER BY number", [])?;
        let found = numbers.iter().find(|n| **n == wanted).or_else(|| {
            // Digits alone match when they pick out exactly one order.
            let by_digits: Vec<_> =
                numbers.iter().filter(|n| !digits.is_empty() && n.chars().filter(char::is_ascii_digit).collect::<String>() == digits).collect();
            (by_digits.len() == 1).then(|| by_digits[0])
        });
        match found {
            Some(number) => self.load(number).map(Some),
            None => Ok(None),
        }
    }

    /// A customer's latest orders, newest first.
    pub fn recent_orders(&self, customer: &str, limit: usize) -> Result<Vec<Order>, ShopError> {
        let numbers = self.order_numbers(
            "SELECT number FROM orders WHERE customer_id = ?1 ORDER BY placed_on DESC, number DESC LIMIT ?2",
            params![customer.trim(), limit as i64],
        )?;
        numbers.iter().map(|n| self.load(n)).collect()
    }

    /// Records a ticket (a complaint, a callback request); returns its number.
    pub fn file_ticket(&self, kind: &str, summary: &str, customer: Option<&str>) -> Result<i64, ShopError> {
        let db = self.db.lock().expect("shop");
        db.execute("INSERT INTO tickets (kind, summary, customer_id) VALUES (?1, ?2, ?3)", params![kind, summary, customer])?;
        Ok(db.last_insert_rowid())
    }

    /// The tickets filed, newest first.
    pub fn tickets(&self) -> Result<Vec<Ticket>, ShopError> {
        let db = self.db.lock().expect("shop");
        let mut q = db.prepare("SELECT number, kind, summary, customer_id FROM tickets ORDER BY number DESC")?;
        let rows = q.query_map([], |r| Ok(Ticket { number: r.get(0)?, kind: r.get(1)?, summary: r.get(2)?, customer_id: r.get(3)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn order_numbers(&self, sql: &str, args: impl rusqlite::Params) -> Result<Vec<String>, ShopError> {
        let db = self.db.lock().expect("shop");
        let mut q = db.prepare(sql)?;
        let rows = q.query_map(args, |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(rows)
    }

    fn load(&self, number: &str) -> Result<Order, ShopError> {
        let db = self.db.lock().expect("shop");
        let mut order = db.query_row(
            "SELECT number, customer_id, placed_on, status, carrier, tracking, expected_on FROM orders WHERE number = ?1",
            [number],
            |r| {
                Ok(Order {
                    number: r.get(0)?,
                    customer_id: r.get(1)?,
                    placed_on: r.get(2)?,
                    status: r.get(3)?,
                    carrier: r.get(4)?,
                    tracking: r.get(5)?,
                    expected_on: r.get(6)?,
                    items: Vec::new(),
                })
            },
        )?;
        let mut q = db.prepare("SELECT name, quantity, price FROM order_items WHERE order_number = ?1 ORDER BY rowid")?;
        order.items = q.query_map([number], |r| Ok(Item { name: r.get(0)?, quantity: r.get(1)?, price: r.get(2)? }))?.collect::<Result<_, _>>()?;
        Ok(order)
    }
}

fn customer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Customer> {
    Ok(Customer { id: r.get(0)?, name: r.get(1)?, tier: r.get(2)?, language: r.get(3)?, cart_total: r.get(4)?, currency: r.get(5)? })
}

/// The sample shop: Korean and English customers with orders in every state.
const SAMPLE: &str = "
INSERT INTO customers VALUES ('C-001', '김민지', 'Gold', 'ko', 58000, 'KRW');
INSERT INTO customers VALUES ('C-002', 'Emily Carter', 'Silver', 'en', 42, 'USD');
INSERT INTO customers VALUES ('C-003', '박서준', 'Basic', 'ko', 0, 'KRW');
INSERT INTO orders VALUES ('A-1001', 'C-001', '2026-11-28', 'shipped', 'CJ대한통운', '6301234567', '2026-12-08');
INSERT INTO orders VALUES ('A-1002', 'C-001', '2026-11-15', 'delivered', '우체국택배', '6865432101', '2026-11-18');
INSERT INTO orders VALUES ('B-2001', 'C-002', '2026-12-01', 'preparing', NULL, NULL, '2026-12-10');
INSERT INTO orders VALUES ('B-2002', 'C-002', '2026-11-20', 'delivered', 'UPS', '1Z999AA10123456784', '2026-11-25');
INSERT INTO orders VALUES ('C-3001', 'C-003', '2026-11-30', 'cancelled', NULL, NULL, NULL);
INSERT INTO order_items VALUES ('A-1001', '무선 이어폰', 1, 89000);
INSERT INTO order_items VALUES ('A-1001', '이어폰 케이스', 1, 12000);
INSERT INTO order_items VALUES ('A-1002', '텀블러', 2, 15000);
INSERT INTO order_items VALUES ('B-2001', 'Running shoes', 1, 120);
INSERT INTO order_items VALUES ('B-2002', 'Water bottle', 1, 18);
INSERT INTO order_items VALUES ('C-3001', '블루투스 스피커', 1, 65000);
";

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Shop, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("sori-shop-{}-{:?}", std::process::id(), std::thread::current().id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("shop.sqlite");
        (Shop::open_sample(&path).unwrap(), path)
    }

    #[test]
    fn orders_are_found_as_written_and_as_said() {
        let (shop, _) = sample();
        let order = shop.order("A-1001").unwrap().expect("A-1001");
        assert_eq!(
            (order.status.as_str(), order.expected_on.as_deref(), order.carrier.as_deref()),
            ("shipped", Some("2026-12-08"), Some("CJ대한통운"))
        );
        assert_eq!(order.items.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["무선 이어폰", "이어폰 케이스"]);
        assert_eq!(shop.order(" a-1001 ").unwrap().map(|o| o.number), Some("A-1001".into()));
        assert_eq!(shop.order("주문번호 2001번이요").unwrap().map(|o| o.number), Some("B-2001".into()));
        assert_eq!(shop.order("9999").unwrap(), None);
        assert_eq!(shop.order("").unwrap(), None);
    }

    #[test]
    fn a_customers_recent_orders_come_newest_first() {
        let (shop, _) = sample();
        let numbers: Vec<_> = shop.recent_orders("C-001", 5).unwrap().into_iter().map(|o| o.number).collect();
        assert_eq!(numbers, ["A-1001", "A-1002"]);
        assert_eq!(shop.recent_orders("C-001", 1).unwrap().len(), 1);
        assert!(shop.recent_orders("C-999", 5).unwrap().is_empty());
        assert_eq!(shop.customer("C-002").unwrap().map(|c| c.name), Some("Emily Carter".into()));
        assert_eq!(shop.customers().unwrap().len(), 3);
    }

    #[test]
    fn tickets_are_numbered_and_kept_across_opening_the_file_again() {
        let (shop, path) = sample();
        let first = shop.file_ticket("complaint", "The earphones arrived broken.", Some("C-001")).unwrap();
        let second = shop.file_ticket("callback", "Call me about a refund.", None).unwrap();
        assert_eq!(second, first + 1);
        drop(shop);
        // Opening again neither loses the ticket nor seeds the sample twice.
        let again = Shop::open_sample(&path).unwrap();
        assert_eq!(again.customers().unwrap().len(), 3);
        assert_eq!(again.file_ticket("complaint", "Still broken.", Some("C-001")).unwrap(), second + 1);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("sori-shop-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("shop.sqlite");
        std::fs::write(&path, b"this is a text file, not SQLite, and it is long enough to have a header").unwrap();
        let e = Shop::open(&path).err().expect("refused");
        assert!(e.to_string().starts_with("The shop's data could not be used:"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
