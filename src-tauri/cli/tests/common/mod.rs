//! Helpers shared by sori-cli's integration tests.
#![allow(dead_code)]

/// Rig tests rewire the sound system and the keychain they reach, so they run
/// only inside Sori's rig.
pub fn require_rig() {
    if std::env::var_os("SORI_RIG").is_none() {
        panic!("this test rewires the sound system it reaches, so it runs only inside Sori's rig: tests/rig/with-rig.sh cargo test -p sori-cli");
    }
}

pub mod served;
