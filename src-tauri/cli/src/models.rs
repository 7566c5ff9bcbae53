//! `sori-cli models`: the models on this computer, listed, installed (with
//! a progress bar), imported from a folder, removed.

use crate::ModelAction;
use indicatif::{ProgressBar, ProgressStyle};
use sori_core::models::{ModelManager, ModelStatus};
use tokio_util::sync::CancellationToken;

fn mb(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

fn line(m: &ModelStatus) -> String {
    let state = if m.installed {
        "installed".to_string()
    } else if m.partial_bytes > 0 {
        format!("{} of {} downloaded", mb(m.partial_bytes), mb(m.size))
    } else {
        "not installed".to_string()
    };
    let tags = [(m.info.recommended, " (recommended)"), (m.info.starter, " (starter)"), (!m.info.tested, " (experimental)")];
    let tags: String = tags.iter().filter(|(on, _)| *on).map(|(_, t)| *t).collect();
    format!("{:<16} {:<15} {:>7}  {:<24} {}  {}{}", m.info.id, m.info.name, mb(m.size), m.info.languages.join(","), m.info.licence, state, tags)
}

pub fn models(action: ModelAction) -> i32 {
    let manager = ModelManager::default_location();
    match action {
        ModelAction::List { json } => {
            let list = manager.list();
            if json {
                println!("{}", serde_json::to_string(&list).expect("the list serializes"));
            } else {
                println!("models in {}", manager.dir().display());
                list.iter().for_each(|m| println!("{}", line(m)));
                for m in manager.imported() {
                    println!("{:<16} {:<15} {:>7}  {:<24} your GGUF file  installed (imported)", m.id, m.name, mb(m.size), "");
                }
            }
            0
        }
        ModelAction::ImportGguf { file } => match manager.import_gguf(&file) {
            Ok(id) => {
                println!("imported {} as {id}; choose it with --local-chat-model {id} or under Models in Settings", file.display());
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        },
        ModelAction::Install { id } => {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(id.clone());
            let cancel = CancellationToken::new();
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
            let result = runtime.block_on(async {
                let stop = cancel.clone();
                tokio::spawn(async move {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        stop.cancel();
                    }
                });
                manager
                    .install(&id, &cancel, |p| {
                        bar.set_length(p.total);
                        bar.set_position(p.done);
                    })
                    .await
            });
            match result {
                Ok(dir) => {
                    bar.finish();
                    println!("installed {id} in {}", dir.display());
                    0
                }
                Err(e) => {
                    bar.abandon();
                    eprintln!("error: {e}");
                    1
                }
            }
        }
        ModelAction::Import { id, path } => match manager.import(&id, &path) {
            Ok(dir) => {
                println!("installed {id} in {}", dir.display());
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        },
        ModelAction::Remove { id } => match manager.remove(&id) {
            Ok(true) => {
                println!("removed {id}");
                0
            }
            Ok(false) => {
                println!("{id} was not installed");
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        },
    }
}
