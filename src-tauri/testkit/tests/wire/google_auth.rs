//! Who may call the fake Google over real HTTP: API keys (header, query,
//! wrong, missing), the service account's JWT exchanged at `/token` for a
//! bearer token, Google's OAuth errors, and tokens that expire.

use super::google::*;
use super::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Client;
use serde_json::json;
use sori_testkit::google::CLOUD_PLATFORM_SCOPE;
use sori_testkit::{Endpoint, GOOGLE_TEST_CLIENT_EMAIL};
use std::time::Duration;

pub(super) fn assertion(key_file: &Value, claims: impl FnOnce(&mut Value)) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut c =
        json!({ "iss": key_file["client_email"], "scope": CLOUD_PLATFORM_SCOPE, "aud": key_file["token_uri"], "iat": now, "exp": now + 3600 });
    claims(&mut c);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = key_file["private_key_id"].as_str().map(str::to_string);
    let key = EncodingKey::from_rsa_pem(key_file["private_key"].as_str().unwrap().as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &c, &key).unwrap()
}

pub(super) async fn exchange(s: &TestServer, grant_type: &str, assertion: &str) -> (u16, Value) {
    let form = format!("grant_type={}&assertion={assertion}", grant_type.replace(':', "%3A"));
    json_of(post(s, "/token").header("content-type", "application/x-www-form-urlencoded").body(form)).await
}

pub(super) fn key_file(s: &TestServer) -> Value {
    serde_json::from_str(&s.google_service_account()).unwrap()
}

pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

#[tokio::test]
async fn a_wrong_key_is_400_and_no_credentials_401() {
    let s = server();
    let body = recognize_body(&raw(&speech_samples()), korean());
    let got = json_of(post(&s, "/v1/speech:recognize").header("x-goog-api-key", "wrong").json(&body)).await;
    let v = assert_google_error(&got, 400, "INVALID_ARGUMENT");
    assert_eq!(v["error"]["message"], "API key not valid. Please pass a valid API key.");
    assert_eq!(v["error"]["details"][0]["reason"], "API_KEY_INVALID");
    assert_eq!(v["error"]["details"][0]["metadata"]["service"], "speech.googleapis.com");
    let got = json_of(post(&s, "/v1/text:synthesize?key=wrong").json(&synthesize_body("네", json!({ "audioEncoding": "MP3" })))).await;
    assert_eq!(assert_google_error(&got, 400, "INVALID_ARGUMENT")["error"]["details"][0]["metadata"]["service"], "texttospeech.googleapis.com");
    let got = json_of(post(&s, "/v1/speech:recognize").json(&body)).await;
    let v = assert_google_error(&got, 401, "UNAUTHENTICATED");
    assert!(v["error"]["message"].as_str().unwrap().starts_with("Method doesn't allow unregistered callers"));
    let got = json_of(Client::new().get(format!("{}/v1/voices", s.google_root()))).await;
    assert_google_error(&got, 401, "UNAUTHENTICATED");
    // A test can change the key; with none, no key is good.
    s.set_google_api_key(Some("another".into()));
    assert_google_error(&json_of(with_key(post(&s, "/v1/speech:recognize")).json(&body)).await, 400, "INVALID_ARGUMENT");
    assert_eq!(json_of(post(&s, "/v1/speech:recognize").header("x-goog-api-key", "another").json(&body)).await.0, 200);
    s.set_google_api_key(None);
    assert_google_error(&json_of(post(&s, "/v1/speech:recognize").header("x-goog-api-key", "another").json(&body)).await, 400, "INVALID_ARGUMENT");
}

#[tokio::test]
async fn a_service_account_jwt_buys_a_bearer_token() {
    let s = server();
    let file = key_file(&s);
    assert_eq!(file["client_email"], GOOGLE_TEST_CLIENT_EMAIL);
    assert_eq!(file["token_uri"], s.google_token_uri());
    let (status, v) = exchange(&s, JWT_BEARER, &assertion(&file, |_| {})).await;
    assert_eq!(status, 200, "{v:#}");
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["expires_in"], 3600);
    let token = v["access_token"].as_str().unwrap();
    assert!(token.starts_with("ya29."));
    assert_eq!(s.google_tokens_issued(), 1);
    let logged = &s.requests()[0];
    assert_eq!((logged.endpoint, &logged.body["assertion"]["claims"]["scope"]), (Endpoint::GoogleToken, &json!(CLOUD_PLATFORM_SCOPE)));

    let body = recognize_body(&raw(&speech_samples()), korean());
    let (status, v) = json_of(post(&s, "/v1/speech:recognize").bearer_auth(token).json(&body)).await;
    assert_eq!(status, 200, "{v:#}");
    let (status, _) = json_of(Client::new().get(format!("{}/v1/voices", s.google_root())).bearer_auth(token)).await;
    assert_eq!(status, 200);
    // A token for another scope is refused by the API, not by the token endpoint.
    let (_, v) = exchange(&s, JWT_BEARER, &assertion(&file, |c| c["scope"] = json!("https://www.googleapis.com/auth/drive"))).await;
    let got = json_of(post(&s, "/v1/speech:recognize").bearer_auth(v["access_token"].as_str().unwrap()).json(&body)).await;
    assert_google_error(&got, 403, "PERMISSION_DENIED");
}

#[tokio::test]
async fn bad_assertions_get_googles_oauth_errors() {
    let s = server();
    let file = key_file(&s);
    // The payload changed after signing: a scope added.
    let good = assertion(&file, |_| {});
    let other = assertion(&file, |c| c["scope"] = json!(format!("{CLOUD_PLATFORM_SCOPE} https://www.googleapis.com/auth/drive")));
    let parts: Vec<&str> = good.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], other.split('.').nth(1).unwrap(), parts[2]);
    let cases = [
        (JWT_BEARER, tampered, "invalid_grant", "Invalid JWT Signature."),
        (JWT_BEARER, assertion(&file, |c| c["iss"] = json!("nobody@sori-test.iam.gserviceaccount.com")), "invalid_grant", "Invalid grant: account not found"),
        (
            JWT_BEARER,
            assertion(&file, |c| c["exp"] = json!(c["iat"].as_u64().unwrap() + 7200)),
            "invalid_grant",
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        ),
        ("client_credentials", good.clone(), "unsupported_grant_type", "Invalid grant_type: client_credentials"),
    ];
    for (grant, jwt, error, description) in cases {
        let (status, v) = exchange(&s, grant, &jwt).await;
        assert_eq!(status, 400, "{v:#}");
        assert_eq!(v, json!({ "error": error, "error_description": description }));
    }
    let (status, v) = exchange(&s, JWT_BEARER, &assertion(&file, |c| c["aud"] = json!("https://oauth2.googleapis.com/token"))).await;
    assert_eq!((status, &v["error"]), (400, &json!("invalid_grant")));
    assert_eq!(s.google_tokens_issued(), 0);
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let s = server();
    s.set_google_token_ttl(Duration::from_secs(1));
    let (_, v) = exchange(&s, JWT_BEARER, &assertion(&key_file(&s), |_| {})).await;
    assert_eq!(v["expires_in"], 1);
    let token = v["access_token"].as_str().unwrap().to_string();
    let body = recognize_body(&raw(&speech_samples()), korean());
    assert_eq!(json_of(post(&s, "/v1/speech:recognize").bearer_auth(&token).json(&body)).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for token in [token.as_str(), "ya29.never-minted"] {
        let got = json_of(post(&s, "/v1/speech:recognize").bearer_auth(token).json(&body)).await;
        let v = assert_google_error(&got, 401, "UNAUTHENTICATED");
        assert!(v["error"]["message"].as_str().unwrap().starts_with("Request had invalid authentication credentials."));
    }
}
