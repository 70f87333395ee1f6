//! One HTTP/1.1 GET of a JWKS document, over TLS for `https://` URLs.
//!
//! Built from what the dependency tree already has, so the platform carries no HTTP client stack
//! of its own: hyper's HTTP/1.1 client connection (tonic's hyper), rustls on aws-lc-rs with the
//! platform verifier (the TLS of lapin's `amqps://`, through `rustls-connector`), and tokio-util's
//! compat adapters between them. The server certificate is checked against the system's roots
//! plus, optionally, the CAs of `auth.jwks_ca_file` (an intranet provider behind a private CA).
//!
//! Deliberately small: no redirects, no proxies, no HTTP/2, no caching headers (the refresh
//! interval decides); anything but `200 OK` is a failed fetch.

use std::time::Duration;

use bytes::Bytes;
use http::{Uri, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use rustls_connector::{
    RustlsConnector, RustlsConnectorConfig,
    rustls_pki_types::{CertificateDer, pem::PemObject},
};
use tokio::net::TcpStream;
use tokio_util::compat::{FuturesAsyncReadCompatExt, TokioAsyncReadCompatExt};

/// Why a URL could not be prepared.
#[derive(Debug)]
pub(crate) enum SetupError {
    /// The URL itself (`auth.jwks_url`).
    Url(String),
    /// The extra CA certificates, or the TLS client built with them (`auth.jwks_ca_file`).
    Roots(String),
}

/// A prepared GET of one URL: parsed, and for `https://` with its TLS client built once (building
/// it reads the system's certificate store).
pub(crate) struct HttpGet {
    url: String,
    uri: Uri,
    /// Host name or IP address, without IPv6 brackets: what is dialled and what the certificate
    /// must name.
    host: String,
    port: u16,
    /// `None` for `http://` (allowed outside production only).
    tls: Option<RustlsConnector>,
}

impl HttpGet {
    /// Checks `url` (`https://`, or `http://` when not `production`) and prepares its TLS client;
    /// `extra_roots_pem` are CA certificates trusted besides the system's.
    pub(crate) fn new(url: &str, production: bool, extra_roots_pem: Option<&[u8]>) -> Result<HttpGet, SetupError> {
        let (uri, host, port, https) = parse_url(url, production).map_err(SetupError::Url)?;
        let tls = match (https, extra_roots_pem) {
            (false, _) => None,
            (true, Some(pem)) => Some(tls_connector(Some(pem)).map_err(SetupError::Roots)?),
            // Without extra roots, only the system's store can be at fault.
            (true, None) => Some(tls_connector(None).map_err(SetupError::Url)?),
        };
        Ok(HttpGet { url: url.to_string(), uri, host, port, tls })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The body of a `200 OK` answer, at most `limit` bytes, all within `timeout`.
    pub(crate) async fn get(&self, timeout: Duration, limit: usize) -> Result<Vec<u8>, String> {
        let work = async {
            let tcp = TcpStream::connect((self.host.as_str(), self.port)).await.map_err(|e| format!("connecting to {}: {e}", self.url))?;
            let _ = tcp.set_nodelay(true);
            match &self.tls {
                Some(connector) => {
                    let tls = connector
                        .connect_async(&self.host, tcp.compat())
                        .await
                        .map_err(|e| format!("TLS handshake with {}: {e}", self.url))?;
                    self.exchange(TokioIo::new(tls.compat()), limit).await
                }
                None => self.exchange(TokioIo::new(tcp), limit).await,
            }
        };
        tokio::time::timeout(timeout, work).await.map_err(|_| format!("fetching {} took longer than {timeout:?}", self.url))?
    }

    async fn exchange<T>(&self, io: T, limit: usize) -> Result<Vec<u8>, String>
    where
        T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let failed = |e: &dyn std::fmt::Display| format!("fetching {}: {e}", self.url);
        let (mut sender, connection) = hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(io).await.map_err(|e| failed(&e))?;
        let path = self.uri.path_and_query().map_or("/", |p| p.as_str());
        let authority = self.uri.authority().map_or(self.host.as_str(), |a| a.as_str());
        let request = http::Request::get(path)
            .header(header::HOST, authority)
            .header(header::ACCEPT, "application/jwk-set+json, application/json")
            .header(header::USER_AGENT, concat!("egov-platform/", env!("CARGO_PKG_VERSION")))
            .header(header::CONNECTION, "close")
            .body(Empty::<Bytes>::new())
            .map_err(|e| failed(&e))?;
        let response = async {
            let response = sender.send_request(request).await.map_err(|e| failed(&e))?;
            if response.status() != http::StatusCode::OK {
                return Err(format!("fetching {}: HTTP {}", self.url, response.status()));
            }
            let body = Limited::new(response.into_body(), limit)
                .collect()
                .await
                .map_err(|e| format!("reading {} (at most {limit} bytes): {e}", self.url))?;
            Ok(body.to_bytes().to_vec())
        };
        // The connection is driven here rather than spawned, so nothing outlives the timeout.
        tokio::pin!(connection, response);
        tokio::select! {
            r = &mut response => r,
            c = &mut connection => {
                c.map_err(|e| failed(&e))?;
                response.await
            }
        }
    }
}

/// Checks `url` as [`HttpGet::new`] does, without building a TLS client (configuration
/// validation).
pub(crate) fn check_url(url: &str, production: bool) -> Result<(), String> {
    parse_url(url, production).map(|_| ())
}

/// Checks that `pem` holds at least one PEM certificate (configuration validation).
pub(crate) fn check_roots_pem(pem: &[u8]) -> Result<(), String> {
    roots_from_pem(pem).map(|_| ())
}

/// Scheme, host and port of `url`: `(uri, host without brackets, port, https?)`.
fn parse_url(url: &str, production: bool) -> Result<(Uri, String, u16, bool), String> {
    let uri: Uri = url.parse().map_err(|e| format!("{url:?} is not a URL: {e}"))?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") if !production => false,
        Some("http") => return Err("must be an https:// URL in production".into()),
        _ => return Err(format!("{url:?} is not an https:// URL")),
    };
    let authority = uri.authority().ok_or_else(|| format!("{url:?} has no host"))?;
    if authority.as_str().contains('@') {
        return Err("user information in the URL is not supported".into());
    }
    let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_string();
    if host.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok((uri, host, port, https))
}

fn tls_connector(extra_roots_pem: Option<&[u8]>) -> Result<RustlsConnector, String> {
    let mut config = RustlsConnectorConfig::new_with_platform_verifier();
    if let Some(pem) = extra_roots_pem {
        config.add_parsable_certificates(roots_from_pem(pem)?);
    }
    config.connector_with_no_client_auth().map_err(|e| format!("cannot build the TLS client on the system's roots and the extra CAs: {e}"))
}

fn roots_from_pem(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let roots = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().map_err(|e| format!("not PEM certificates: {e}"))?;
    if roots.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let get = HttpGet::new("http://127.0.0.1:8080/keys?x=1", false, None).unwrap();
        assert_eq!((get.host.as_str(), get.port), ("127.0.0.1", 8080));
        assert!(get.tls.is_none());
        let v6 = HttpGet::new("http://[::1]/jwks", false, None).unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 80));
        assert!(matches!(HttpGet::new("http://idp/jwks", true, None), Err(SetupError::Url(e)) if e.contains("https")));
        assert!(matches!(HttpGet::new("ftp://idp/jwks", false, None), Err(SetupError::Url(_))));
        assert!(matches!(HttpGet::new("/jwks", false, None), Err(SetupError::Url(_))));
        assert!(matches!(HttpGet::new("https://user:pw@idp/jwks", false, None), Err(SetupError::Url(_))));
        assert!(matches!(HttpGet::new("https://idp/jwks", false, Some(b"not pem")), Err(SetupError::Roots(_))));
    }
}
