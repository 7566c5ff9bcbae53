//! `POST /token`: Google's OAuth 2.0 token endpoint for service accounts (the
//! JWT bearer grant of RFC 7523, as Google documents it for server-to-server
//! apps): the assertion's RS256 signature is checked against the test
//! account's key, then its claims, and a short-lived access token comes back.

use super::errors::OAuthError;
use super::{begin, record, reply_json};
use crate::faults::Endpoint;
use crate::google::{GOOGLE_TEST_CLIENT_EMAIL, GOOGLE_TEST_PUBLIC_KEY_PEM};
use crate::state::Shared;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The longest a JWT may live, and how far in the future `iat` may be
/// (clock skew), as Google allows.
const MAX_LIFETIME_SECS: u64 = 3600;
const SKEW_SECS: u64 = 300;

const TIMEFRAME: &str =
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";

fn public_key() -> &'static DecodingKey {
    static KEY: OnceLock<DecodingKey> = OnceLock::new();
    KEY.get_or_init(|| {
        // Chosen here, not by crate features, so another crate in the build
        // that enables a second jsonwebtoken backend cannot leave it unchosen.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        DecodingKey::from_rsa_pem(GOOGLE_TEST_PUBLIC_KEY_PEM.as_bytes()).expect("the test account's public key is a valid PEM")
    })
}

/// The assertion as the log keeps it: its header and claims, readable.
fn loggable(form: &HashMap<String, String>) -> Value {
    let assertion = form.get("assertion").map(|a| {
        let header = jsonwebtoken::decode_header(a).ok().and_then(|h| serde_json::to_value(h).ok());
        let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Value>(a).ok();
        json!({ "header": header, "claims": claims })
    });
    json!({ "grant_type": form.get("grant_type"), "assertion": assertion })
}

pub async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri, body: Bytes) -> Result<Response, OAuthError> {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let logged = record(&shared, Endpoint::GoogleToken, &headers, &uri, loggable(&form));
    let ctx = begin(&shared, Endpoint::GoogleToken, OAuthError::from_fault).await?;
    match form.get("grant_type").map(String::as_str) {
        None => return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", "Missing required parameter: grant_type")),
        Some(JWT_BEARER) => {}
        Some(other) => return Err(OAuthError::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", format!("Invalid grant_type: {other}"))),
    }
    let assertion =
        form.get("assertion").ok_or_else(|| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", "Missing required parameter: assertion"))?;
    // The audience is this endpoint as the client reached it: the key file's `token_uri`.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    let scopes = verify(assertion, &format!("http://{host}/token"), jsonwebtoken::get_current_timestamp())?;
    let (access_token, ttl) = shared.google.lock().unwrap().mint(scopes);
    let body = json!({ "access_token": access_token, "expires_in": ttl.as_secs(), "token_type": "Bearer" });
    let mut response = reply_json(&shared, logged, &ctx, Duration::ZERO, body).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"));
    Ok(response)
}

/// Checks a service account's JWT as Google does, in Google's order (who,
/// then the signature, then the claims); the scopes it asks for on success.
pub fn verify(assertion: &str, audience: &str, now: u64) -> Result<Vec<String>, OAuthError> {
    let claims: Value =
        jsonwebtoken::dangerous::insecure_decode_claims(assertion).map_err(|_| OAuthError::invalid_grant("Invalid JWT: Failed to parse the JWT."))?;
    if claims["iss"].as_str() != Some(GOOGLE_TEST_CLIENT_EMAIL) {
        return Err(OAuthError::invalid_grant("Invalid grant: account not found"));
    }
    let mut validation = Validation::new(Algorithm::RS256);
    // The claims are checked below, with Google's own messages.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(assertion, public_key(), &validation).map_err(|_| OAuthError::invalid_grant("Invalid JWT Signature."))?;
    if claims["aud"].as_str() != Some(audience) {
        return Err(OAuthError::invalid_grant(format!("Invalid JWT: Failed audience check. The right audience is {audience}")));
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_u64(), claims["exp"].as_u64()) else {
        return Err(OAuthError::invalid_grant(TIMEFRAME));
    };
    if exp <= iat || exp - iat > MAX_LIFETIME_SECS || exp <= now || iat > now + SKEW_SECS {
        return Err(OAuthError::invalid_grant(TIMEFRAME));
    }
    let scopes: Vec<String> = claims["scope"].as_str().unwrap_or_default().split_whitespace().map(str::to_string).collect();
    if scopes.is_empty() {
        return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_scope", "Invalid OAuth scope or ID token audience provided."));
    }
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::google::{CLOUD_PLATFORM_SCOPE, GOOGLE_TEST_PRIVATE_KEY_PEM};
    use jsonwebtoken::{encode, EncodingKey, Header};

    const AUD: &str = "http://127.0.0.1:9/token";
    const NOW: u64 = 1_800_000_000;

    fn sign(claims: Value) -> String {
        let key = EncodingKey::from_rsa_pem(GOOGLE_TEST_PRIVATE_KEY_PEM.as_bytes()).unwrap();
        encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
    }

    fn claims() -> Value {
        json!({"iss": GOOGLE_TEST_CLIENT_EMAIL, "scope": CLOUD_PLATFORM_SCOPE, "aud": AUD, "iat": NOW, "exp": NOW + 3600})
    }

    fn error_of(assertion: &str) -> String {
        let e = verify(assertion, AUD, NOW + 10).unwrap_err();
        format!("{}: {}", e.error, e.description)
    }

    #[test]
    fn a_good_assertion_gets_its_scopes() {
        public_key();
        assert_eq!(verify(&sign(claims()), AUD, NOW + 10).unwrap(), [CLOUD_PLATFORM_SCOPE]);
    }

    #[test]
    fn each_bad_claim_gets_googles_answer() {
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            sign(c)
        };
        assert_eq!(error_of(&with("iss", json!("someone@else.iam.gserviceaccount.com"))), "invalid_grant: Invalid grant: account not found");
        assert!(error_of(&with("aud", json!("https://oauth2.googleapis.com/token"))).contains("Failed audience check"));
        assert!(error_of(&with("exp", json!(NOW + 3601))).contains("short-lived token"));
        assert!(error_of(&with("exp", json!(NOW + 5))).contains("short-lived token"), "expired");
        assert!(error_of(&with("iat", json!(null))).contains("short-lived token"));
        assert!(error_of(&with("scope", json!(""))).starts_with("invalid_scope"));
        // A payload changed after signing.
        let good = sign(claims());
        let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
        parts[1] = sign(with_exp_shift(claims())).split('.').nth(1).unwrap().to_string();
        assert_eq!(error_of(&parts.join(".")), "invalid_grant: Invalid JWT Signature.");
    }

    fn with_exp_shift(mut c: Value) -> Value {
        c["exp"] = json!(NOW + 3000);
        c
    }
}
