//! Smoke tests of the keychain rig: a secret stored, read back, replaced and
//! deleted through both real Linux stores: Secret Service (gnome-keyring over
//! D-Bus) and the kernel's keyutils (in the rig's session keyring).
//!
//! Runs only inside the rig (it checks `SORI_RIG`, see `common::require_rig`).

#![cfg(target_os = "linux")]

mod common;

use keyring::{Entry, Error};

fn roundtrip(entry: Entry, store: &str) {
    let secret = format!("secret-for-{store}-한국어");
    entry.set_password(&secret).unwrap_or_else(|e| panic!("{store}: store a secret: {e} (is the rig running?)"));
    assert_eq!(entry.get_password().unwrap(), secret, "{store}: read back");
    entry.set_password("replaced").unwrap();
    assert_eq!(entry.get_password().unwrap(), "replaced", "{store}: replaced");
    entry.delete_credential().unwrap();
    assert!(matches!(entry.get_password(), Err(Error::NoEntry)), "{store}: gone after delete");
}

#[test]
fn secret_service_stores_reads_and_deletes() {
    common::require_rig();
    let cred = keyring::secret_service::SsCredential::new_with_target(None, "sori-rig-smoke", "provider-a").unwrap();
    roundtrip(Entry::new_with_credential(Box::new(cred)), "secret-service");
}

#[test]
fn keyutils_stores_reads_and_deletes() {
    common::require_rig();
    let cred = keyring::keyutils::KeyutilsCredential::new_with_target(None, "sori-rig-smoke", "provider-a").unwrap();
    roundtrip(Entry::new_with_credential(Box::new(cred)), "keyutils");
}
