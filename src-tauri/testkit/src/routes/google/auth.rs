//! Who may call the Google speech routes, checked as Google checks: an API
//! key (`x-goog-api-key` header or `?key=`) or an OAuth access token minted
//! by the fake's `/token` (`Authorization: Bearer …`), with Google's replies.

use super::errors::{GoogleError, Service};
use crate::google::TokenCheck;
use crate::state::Shared;
use axum::http::{HeaderMap, Uri};

/// The API key a request carries: the header wins over the query, as at Google.
pub fn sent_key(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let header = headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    header.or_else(|| query_param(uri, "key"))
}

/// A query parameter, percent-decoded.
pub fn query_param(uri: &Uri, name: &str) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Lets the request through, or answers as Google would. A token is checked
/// before a key: with both, Google wants both good.
pub fn authorize(shared: &Shared, headers: &HeaderMap, uri: &Uri, service: Service) -> Result<(), GoogleError> {
    let key = sent_key(headers, uri);
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::trim);
    let bearer = authorization.and_then(|v| v.split_once(' ')).filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer")).map(|(_, t)| t.trim());
    if key.is_none() && bearer.is_none() {
        // Another scheme (Basic, a bare key) is as good as nothing to Google.
        return Err(match authorization {
            Some(_) => GoogleError::bad_token(service, false),
            None => GoogleError::credentials_missing(service),
        });
    }
    let google = shared.google.lock().unwrap();
    if let Some(token) = bearer {
        match google.check_token(token) {
            TokenCheck::Valid { cloud_platform: true } => {}
            TokenCheck::Valid { cloud_platform: false } => return Err(GoogleError::insufficient_scopes(service)),
            TokenCheck::Expired => return Err(GoogleError::bad_token(service, true)),
            TokenCheck::Unknown => return Err(GoogleError::bad_token(service, false)),
        }
    }
    match key {
        Some(key) if google.api_key.as_deref() != Some(key.as_str()) => Err(GoogleError::api_key_invalid(service)),
        _ => Ok(()),
    }
}
