//! Finding chat servers already running on this computer: a server on a
//! loopback port that speaks Ollama's and OpenAI's model lists is found and
//! its models listed; one that only speaks OpenAI's list is taken for the
//! program usually on its port; a port with nothing on it is left out.

use sori_core::app::local_servers::{find, ServerKind};
use sori_testkit::{ServerConfig, TestServer};

fn port_of(server: &TestServer) -> u16 {
    let url = server.base_url();
    url.trim_end_matches("/v1").rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn servers_on_this_computer_are_found_with_their_models() {
    let ollama = TestServer::start(ServerConfig { api_key: None, ..ServerConfig::default() }).await.unwrap();
    ollama.set_ollama_tags(true);
    let studio = TestServer::start(ServerConfig { api_key: None, ..ServerConfig::default() }).await.unwrap();
    // A port nobody listens on: bound, then let go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // One that wants a key is not something Sori can use without one.
    let guarded = TestServer::start(ServerConfig::default()).await.unwrap();

    let found = find(&[
        (ServerKind::Ollama, port_of(&ollama)),
        (ServerKind::LlamaCpp, closed),
        (ServerKind::LmStudio, port_of(&studio)),
        (ServerKind::LmStudio, port_of(&guarded)),
    ])
    .await;

    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].kind, ServerKind::Ollama);
    assert_eq!(found[0].base_url, format!("http://127.0.0.1:{}/v1", port_of(&ollama)));
    assert_eq!(found[0].models, ["llama3.2:3b", "qwen2.5:1.5b"]);
    assert_eq!(found[1].kind, ServerKind::LmStudio);
    assert_eq!(found[1].base_url, studio.base_url());
    assert!(found[1].models.iter().any(|m| m == "gpt-4o-mini"), "{:?}", found[1].models);
}
