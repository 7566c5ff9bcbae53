//! Scaling out: two `sori-cli serve` replicas behind nginx (round robin),
//! sharing conversations through a real Redis server. A conversation begun
//! on one replica goes on on the other, with its history; the streamed form
//! and the WebSocket pass through the proxy.

mod common;

use common::served::{fresh_dir, parse_sse, Served};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use sori_testkit::{Endpoint, ServerConfig, TestServer};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A program of ours that dies with the test: SIGTERM, so nginx's master
/// stops its workers too (a killed master leaves them running).
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        for _ in 0..100 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Waits until something listens on `port`.
fn wait_for(port: u16, what: &str) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} never listened on {port}");
}

fn redis(dir: &Path) -> (Daemon, u16) {
    let port = free_port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir"])
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server (Debian's redis-server package)");
    wait_for(port, "redis-server");
    (Daemon(child), port)
}

/// nginx in the foreground with a config of our own: round robin over the
/// replicas, no buffering of streamed answers, WebSocket upgrades passed on.
fn nginx(dir: &Path, replicas: &[&str]) -> (Daemon, u16) {
    let port = free_port();
    let upstreams: String = replicas.iter().map(|r| format!("    server {};\n", r.trim_start_matches("http://"))).collect();
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let config = format!(
        r#"pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log;
events {{ worker_connections 256; }}
http {{
  access_log {prefix}/logs/access.log;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  upstream sori {{
{upstreams}  }}
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 25m;
    location / {{
      proxy_pass http://sori;
      proxy_http_version 1.1;
      proxy_buffering off;
      proxy_read_timeout 300s;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
    }}
  }}
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
}}
"#,
        prefix = prefix.display()
    );
    let file = prefix.join("nginx.conf");
    std::fs::write(&file, config).unwrap();
    let child = Command::new("nginx")
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&file)
        .args(["-g", "daemon off;"])
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx (Debian's nginx package)");
    wait_for(port, "nginx");
    (Daemon(child), port)
}

fn served_requests(replica: &Served) -> usize {
    replica.logs().matches("\"path\":\"/voice-chat\"").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_begun_on_one_replica_goes_on_on_the_other() {
    let kit = TestServer::start_in_background(ServerConfig::default()).unwrap();
    let (dir_a, dir_b) = (fresh_dir("replica-a"), fresh_dir("replica-b"));
    let (_redis, redis_port) = redis(&dir_a);
    let redis_url = format!("redis://127.0.0.1:{redis_port}/0");
    // The replicas share their tokens (one data folder) and their conversations (Redis).
    std::fs::create_dir_all(dir_a.join("data")).unwrap();
    std::os::unix::fs::symlink(dir_a.join("data"), dir_b.join("data")).unwrap();
    let a = Served::start(&dir_a, &kit.base_url(), &["--redis", &redis_url]);
    let b = Served::start(&dir_b, &kit.base_url(), &["--redis", &redis_url]);
    let token = a.add_token("load-balanced");
    let (_nginx, port) = nginx(&dir_a, &[&a.url, &b.url]);
    let proxy = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let ask = |text: &str, conversation: Option<&str>| {
        let mut form = reqwest::multipart::Form::new().text("text", text.to_string());
        if let Some(id) = conversation {
            form = form.text("conversation_id", id.to_string());
        }
        client.post(format!("{proxy}/voice-chat?stream=true")).bearer_auth(&token).multipart(form).send()
    };

    let first = parse_sse(&ask("My order A-1001 has not arrived.", None).await.unwrap().text().await.unwrap());
    let id = first[0].1["conversation_id"].as_str().unwrap().to_string();
    assert_eq!(first.last().unwrap().1["kept"], true, "{:?}", first.last());
    let second = parse_sse(&ask("Can you check it again?", Some(&id)).await.unwrap().text().await.unwrap());
    assert_eq!(second[0].1["conversation_id"], id.as_str());
    assert!(second.iter().any(|(n, _)| n == "audio"), "streamed audio passes the proxy");
    // Round robin: each replica answered one of the two.
    assert_eq!((served_requests(&a), served_requests(&b)), (1, 1), "one request each");
    // The replica that answered second knew the first turn.
    let chats: Vec<Value> =
        kit.requests().into_iter().filter(|r| r.endpoint == Endpoint::Chat && r.body.get("response_format").is_none()).map(|r| r.body).collect();
    let messages = chats.last().unwrap()["messages"].to_string();
    assert!(messages.contains("My order A-1001 has not arrived.") && messages.contains("Can you check it again?"), "{messages}");
    // Kept in Redis, not in either replica's folder.
    assert!(!dir_a.join("data/conversations").exists());
    let keys = Command::new("redis-cli").args(["-p", &redis_port.to_string(), "--raw", "keys", "sori:conversation:*"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&keys.stdout).trim(), format!("sori:conversation:{id}"));
    let ttl = Command::new("redis-cli").args(["-p", &redis_port.to_string(), "ttl", &format!("sori:conversation:{id}")]).output().unwrap();
    let ttl: i64 = String::from_utf8_lossy(&ttl.stdout).trim().parse().unwrap();
    assert!(ttl > 3600, "conversations expire (a day by default): {ttl}");

    // A WebSocket through the proxy goes on with the same conversation.
    let url = format!("ws://127.0.0.1:{port}/v1/voice?conversation_id={id}");
    let mut request = url.as_str().into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.expect("the upgrade passes nginx");
    socket.send(Message::Text(r#"{"type":"text","text":"Thank you!"}"#.into())).await.unwrap();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), socket.next()).await.unwrap().unwrap().unwrap();
        if let Message::Text(t) = m {
            if serde_json::from_str::<Value>(&t).unwrap()["type"] == "done" {
                break;
            }
        }
    }
    let kept: Value = client.get(format!("{proxy}/v1/conversations/{id}")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(kept["turns"].as_array().unwrap().len(), 3, "{kept}");
}
