//! The fake Google Cloud account: the test service account (its key file as
//! the console gives it, and the key that signs its JWTs), the API key, and
//! what the fake OAuth server remembers (tokens it minted, their lifetime).

use crate::script::sha256_hex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The API key the Google routes expect unless a test says otherwise. Not
/// shaped like a real key (`AIza…`) on purpose, so no scanner mistakes it for one.
pub const GOOGLE_TEST_API_KEY: &str = "sori-google-test-key-4567";

/// The test service account's address: the `iss` its JWTs must carry.
pub const GOOGLE_TEST_CLIENT_EMAIL: &str = "sori-test@sori-test.iam.gserviceaccount.com";

/// The project the account belongs to.
pub const GOOGLE_TEST_PROJECT_ID: &str = "sori-test";

/// The scope Speech-to-Text and Text-to-Speech need.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// The account's private key: a 2048-bit RSA key generated for these tests
/// only, never registered anywhere, so it is safe to ship in the repository.
pub const GOOGLE_TEST_PRIVATE_KEY_PEM: &str = include_str!("../fixtures/google-test-service-account.pem");

/// Its public half (`openssl pkey -pubout`), which the fake OAuth server
/// verifies signatures with, as Google checks them with the key it keeps.
pub const GOOGLE_TEST_PUBLIC_KEY_PEM: &str = include_str!("../fixtures/google-test-service-account.pub.pem");

/// The account's numeric id: 21 digits, as Google's are.
const CLIENT_ID: &str = "109876543210987654321";

/// The key's id (40 hex digits, as the console's): derived from the public
/// key so it changes if the key does.
pub fn private_key_id() -> String {
    sha256_hex(GOOGLE_TEST_PUBLIC_KEY_PEM.as_bytes())[..40].to_string()
}

/// The service-account key file exactly as Google's console gives it (same
/// fields, same order, two-space indent), with `token_uri` pointing at the
/// fake's OAuth endpoint so a client that honours it never reaches Google.
pub fn service_account_json(token_uri: &str) -> String {
    let s = |v: &str| serde_json::to_string(v).expect("strings serialize");
    let email_escaped = GOOGLE_TEST_CLIENT_EMAIL.replace('@', "%40");
    format!(
        "{{\n  \"type\": \"service_account\",\n  \"project_id\": {},\n  \"private_key_id\": {},\n  \"private_key\": {},\n  \"client_email\": {},\n  \
         \"client_id\": {},\n  \"auth_uri\": \"https://accounts.google.com/o/oauth2/auth\",\n  \"token_uri\": {},\n  \
         \"auth_provider_x509_cert_url\": \"https://www.googleapis.com/oauth2/v1/certs\",\n  \
         \"client_x509_cert_url\": \"https://www.googleapis.com/robot/v1/metadata/x509/{email_escaped}\",\n  \"universe_domain\": \"googleapis.com\"\n}}\n",
        s(GOOGLE_TEST_PROJECT_ID),
        s(&private_key_id()),
        s(GOOGLE_TEST_PRIVATE_KEY_PEM),
        s(GOOGLE_TEST_CLIENT_EMAIL),
        s(CLIENT_ID),
        s(token_uri),
    )
}

/// An access token the fake minted.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub expires: Instant,
    /// The scopes the JWT asked for (space-separated in the claim).
    pub scopes: Vec<String>,
}

/// What the fake Google side of one server knows. `std` time, not tokio's:
/// a token expires on the wall clock even in a test that pauses tokio time.
#[derive(Debug)]
pub struct GoogleState {
    /// `None`: no API key is valid (only OAuth works), as for a project without keys.
    pub api_key: Option<String>,
    pub token_ttl: Duration,
    pub tokens: HashMap<String, IssuedToken>,
    pub tokens_issued: usize,
}

impl Default for GoogleState {
    fn default() -> Self {
        GoogleState { api_key: Some(GOOGLE_TEST_API_KEY.into()), token_ttl: Duration::from_secs(3600), tokens: HashMap::new(), tokens_issued: 0 }
    }
}

/// What a bearer token is worth now.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenCheck {
    Valid { cloud_platform: bool },
    Expired,
    Unknown,
}

impl GoogleState {
    /// Remembers a new token and counts it.
    pub fn mint(&mut self, scopes: Vec<String>) -> (String, Duration) {
        self.tokens_issued += 1;
        let token = format!("ya29.{}", unique_chars(&format!("token-{}", self.tokens_issued), 120));
        self.tokens.insert(token.clone(), IssuedToken { expires: Instant::now() + self.token_ttl, scopes });
        (token, self.token_ttl)
    }

    pub fn check_token(&self, token: &str) -> TokenCheck {
        match self.tokens.get(token) {
            Some(t) if t.expires > Instant::now() => TokenCheck::Valid { cloud_platform: t.scopes.iter().any(|s| s == CLOUD_PLATFORM_SCOPE) },
            Some(_) => TokenCheck::Expired,
            None => TokenCheck::Unknown,
        }
    }
}

/// `len` URL-safe characters no earlier call gave (the clock and a counter
/// feed a hash), for tokens and request ids without a random-number crate.
pub fn unique_chars(salt: &str, len: usize) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let mut out = String::new();
    let mut round = 0;
    while out.len() < len {
        let hex = sha256_hex(format!("{salt}/{nanos}/{call}/{round}").as_bytes());
        let bytes = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0));
        out.extend(bytes.map(|b| ALPHABET[(b & 63) as usize] as char));
        round += 1;
    }
    out.truncate(len);
    out
}

/// A positive int64 as decimal digits, different on every call: Google's `requestId`.
pub fn request_id() -> String {
    let chars = unique_chars("request", 16);
    let n = chars.bytes().fold(0u64, |n, b| n.wrapping_mul(131).wrapping_add(b as u64));
    (n >> 1).max(1).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_has_googles_fields_in_googles_order() {
        let text = service_account_json("http://127.0.0.1:1/token");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], "service_account");
        assert_eq!(v["client_email"], GOOGLE_TEST_CLIENT_EMAIL);
        assert_eq!(v["token_uri"], "http://127.0.0.1:1/token");
        assert_eq!(v["private_key"], GOOGLE_TEST_PRIVATE_KEY_PEM);
        assert!(v["private_key_id"].as_str().unwrap().chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(v["private_key_id"].as_str().unwrap().len(), 40);
        assert_eq!(v["client_id"].as_str().unwrap().len(), 21);
        assert!(text.contains("\\n"), "the PEM's newlines are escaped as in Google's file");
        let keys: Vec<&str> = text.lines().filter_map(|l| l.trim().strip_prefix('"')?.split('"').next()).collect();
        assert_eq!(
            keys,
            [
                "type",
                "project_id",
                "private_key_id",
                "private_key",
                "client_email",
                "client_id",
                "auth_uri",
                "token_uri",
                "auth_provider_x509_cert_url",
                "client_x509_cert_url",
                "universe_domain"
            ]
        );
    }

    #[test]
    fn tokens_expire_and_ids_differ() {
        let mut state = GoogleState { token_ttl: Duration::ZERO, ..Default::default() };
        let (token, _) = state.mint(vec![CLOUD_PLATFORM_SCOPE.into()]);
        assert!(token.starts_with("ya29."));
        assert_eq!(state.check_token(&token), TokenCheck::Expired);
        assert_eq!(state.check_token("ya29.made-up"), TokenCheck::Unknown);
        state.token_ttl = Duration::from_secs(60);
        let (token, _) = state.mint(vec!["https://www.googleapis.com/auth/drive".into()]);
        assert_eq!(state.check_token(&token), TokenCheck::Valid { cloud_platform: false });
        assert_eq!(state.tokens_issued, 2);
        assert_ne!(request_id(), request_id());
        assert!(request_id().chars().all(|c| c.is_ascii_digit()));
    }
}
