//! The model's own thread: it loads the GGUF file once, then answers one
//! request at a time, keeping what the context already holds (the persona,
//! earlier turns) and evaluating only the tokens after the longest shared
//! prefix.

use crate::prompt::{self, Message};
use crate::utf8::Utf8Pieces;
use crate::LlmError;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// Tokens evaluated per call while reading the prompt; a cancel is seen
/// between chunks.
const PROMPT_CHUNK: usize = 64;

/// How the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// CPU threads for generation and for reading the prompt.
    pub threads: usize,
    /// The context window in tokens (capped at what the model was trained on).
    pub window: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options { threads: 2, window: 4096 }
    }
}

/// What a reply asks of the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub messages: Vec<Message>,
    /// The longest reply, in tokens.
    pub max_tokens: u32,
    /// 0 picks the likeliest token every time (the same reply every time).
    pub temperature: f32,
    pub seed: u32,
}

/// Why a reply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// The model ended its turn.
    Stop,
    /// It reached `max_tokens` or the window.
    Length,
    /// It was cancelled (or nobody listened any more).
    Cancelled,
}

/// What one reply cost.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    /// Tokens of the whole prompt, and how many of them the cache already held.
    pub prompt_tokens: usize,
    pub reused_tokens: usize,
    /// Tokens the model wrote, counted when each was sampled.
    pub generated_tokens: usize,
    /// From the request to the first token, and the sampling rate after it.
    pub first_token_ms: f64,
    pub tokens_per_second: f64,
}

/// What a reply yields, in order: text as it comes, then `Done` (or one `Error`).
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Text(String),
    Done(Finish, Stats),
    Error(LlmError),
}

/// What the loaded model says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFacts {
    /// `general.name` from the file, else its file name.
    pub name: String,
    pub window: u32,
    pub parameters: u64,
    pub threads: usize,
}

type Sink = Box<dyn FnMut(Event) -> bool + Send>;

enum Job {
    Reply { request: Request, cancel: Arc<AtomicBool>, sink: Sink },
    Render { messages: Vec<Message>, answer: Sender<Result<String, LlmError>> },
}

/// A loaded model on its own thread. Requests queue and run in turn; the
/// thread ends when the last handle is dropped.
pub struct LocalLlm {
    jobs: Mutex<Sender<Job>>,
    facts: ModelFacts,
    last: Arc<Mutex<Option<Stats>>>,
}

impl LocalLlm {
    /// Loads the GGUF file at `path` (blocking: a second or more), on a
    /// new thread that then serves requests.
    pub fn load(path: &Path, options: Options) -> Result<LocalLlm, LlmError> {
        let (jobs, queue) = mpsc::channel();
        let (ready, loaded) = mpsc::channel();
        let path = path.to_path_buf();
        let last = Arc::new(Mutex::new(None));
        let last_for_thread = last.clone();
        std::thread::Builder::new()
            .name("sori-llama".into())
            .spawn(move || serve(path, options, ready, queue, last_for_thread))
            .map_err(|e| LlmError::Failed(e.to_string()))?;
        let facts = loaded.recv().map_err(|_| LlmError::Failed("the model thread ended while loading".into()))??;
        Ok(LocalLlm { jobs: Mutex::new(jobs), facts, last })
    }

    pub fn facts(&self) -> &ModelFacts {
        &self.facts
    }

    /// The cost of the last reply that finished.
    pub fn last_stats(&self) -> Option<Stats> {
        *self.last.lock().expect("stats")
    }

    /// Starts a reply: `sink` gets each event on the model's thread and
    /// returns whether it still listens (false stops sampling, as `cancel` does).
    pub fn reply(&self, request: Request, cancel: Arc<AtomicBool>, sink: impl FnMut(Event) -> bool + Send + 'static) {
        if let Err(mpsc::SendError(Job::Reply { mut sink, .. })) = self.send(Job::Reply { request, cancel, sink: Box::new(sink) }) {
            sink(Event::Error(LlmError::Failed("the model thread has ended".into())));
        }
    }

    /// The prompt `messages` become, as text: what the model reads.
    pub fn render(&self, messages: &[Message]) -> Result<String, LlmError> {
        let (answer, rendered) = mpsc::channel();
        self.send(Job::Render { messages: messages.to_vec(), answer }).map_err(|_| LlmError::Failed("the model thread has ended".into()))?;
        rendered.recv().map_err(|_| LlmError::Failed("the model thread has ended".into()))?
    }

    fn send(&self, job: Job) -> Result<(), mpsc::SendError<Job>> {
        self.jobs.lock().expect("job queue").send(job)
    }
}

/// llama.cpp's process-wide state: initialised once, its logs silenced
/// (Sori reports what matters itself).
fn backend() -> Result<&'static LlamaBackend, LlmError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            LlamaBackend::init()
                .map(|mut b| {
                    b.void_logs();
                    b
                })
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| LlmError::Failed(e.clone()))
}

fn serve(path: PathBuf, options: Options, ready: Sender<Result<ModelFacts, LlmError>>, queue: Receiver<Job>, last: Arc<Mutex<Option<Stats>>>) {
    let load_error = |reason: String| LlmError::Load { path: path.display().to_string(), reason };
    let loaded = (|| {
        let backend = backend()?;
        if !path.is_file() {
            return Err(load_error("the file is not there".into()));
        }
        let model = LlamaModel::load_from_file(backend, &path, &LlamaModelParams::default())
            .map_err(|e| load_error(format!("{e} (is it a whole GGUF file?)")))?;
        let template = model.chat_template(None).map_err(|_| LlmError::NoTemplate)?;
        let window = options.window.min(model.n_ctx_train()).max(256);
        let threads = options.threads.max(1) as i32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(window))
            .with_n_batch(PROMPT_CHUNK as u32)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let name = model.meta_val_str("general.name").ok().filter(|n| !n.trim().is_empty());
        let name = name.unwrap_or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
        let facts = ModelFacts { name, window, parameters: model.n_params(), threads: options.threads.max(1) };
        Ok((model, template, params, facts))
    })();
    let (model, template, params, facts) = match loaded {
        Ok(l) => l,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let backend = backend().expect("initialised above");
    let mut ctx = match model.new_context(backend, params) {
        Ok(ctx) => ctx,
        Err(e) => {
            let _ = ready.send(Err(load_error(format!("no room for its context ({e})"))));
            return;
        }
    };
    let window = facts.window;
    if ready.send(Ok(facts)).is_err() {
        return;
    }
    let mut session = Session { model: &model, template: &template, cached: Vec::new(), window };
    for job in queue {
        match job {
            Job::Render { messages, answer } => {
                let _ = answer.send(prompt::render(&model, &template, &messages));
            }
            Job::Reply { request, cancel, mut sink } => match session.reply(&mut ctx, &request, &cancel, &mut sink) {
                Ok((finish, stats)) => {
                    *last.lock().expect("stats") = Some(stats);
                    sink(Event::Done(finish, stats));
                }
                Err(e) => {
                    sink(Event::Error(e));
                }
            },
        }
    }
}

/// The conversation as the context holds it.
struct Session<'m> {
    model: &'m LlamaModel,
    template: &'m LlamaChatTemplate,
    /// Exactly the tokens in the KV cache, in order (sequence 0).
    cached: Vec<LlamaToken>,
    window: u32,
}

impl Session<'_> {
    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        // Templates that write the BOS token themselves must not get a second one.
        let bos = String::from_utf8_lossy(&vocab.token_to_piece(vocab.bos(), true, None)).into_owned();
        let add_bos = vocab.should_add_bos() && !(bos.len() > 1 && text.starts_with(&bos));
        vocab.tokenize(text.as_bytes(), add_bos, true)
    }

    fn reply(&mut self, ctx: &mut LlamaContext, request: &Request, cancel: &AtomicBool, sink: &mut Sink) -> Result<(Finish, Stats), LlmError> {
        let started = Instant::now();
        let room = request.max_tokens.clamp(1, self.window / 2);
        let messages =
            prompt::fit(&request.messages, self.window, room, |m| Ok(self.tokenize(&prompt::render(self.model, self.template, m)?).len()))?;
        let tokens = self.tokenize(&prompt::render(self.model, self.template, &messages)?);
        if tokens.is_empty() {
            return Err(LlmError::Failed("the prompt came out empty".into()));
        }
        let mut stats = Stats { prompt_tokens: tokens.len(), ..Stats::default() };

        // Keep the longest prefix the cache shares with this prompt; at least
        // one token is evaluated so the model has logits to sample from.
        let mut keep = self.cached.iter().zip(&tokens).take_while(|(a, b)| a == b).count().min(tokens.len() - 1);
        if !ctx.clear_kv_cache_seq(Some(0), Some(keep as u32), None).unwrap_or(false) {
            ctx.clear_kv_cache();
            keep = 0;
        }
        self.cached.truncate(keep);
        stats.reused_tokens = keep;

        let mut batch = LlamaBatch::new(PROMPT_CHUNK, 1);
        for chunk in tokens[keep..].chunks(PROMPT_CHUNK) {
            if cancel.load(Ordering::Relaxed) {
                return Ok((Finish::Cancelled, stats));
            }
            batch.clear();
            let last_chunk = self.cached.len() + chunk.len() == tokens.len();
            for (i, &token) in chunk.iter().enumerate() {
                let pos = (self.cached.len() + i) as i32;
                batch.add(token, pos, &[0], last_chunk && i == chunk.len() - 1).map_err(|e| LlmError::Failed(e.to_string()))?;
            }
            self.decode(ctx, &mut batch)?;
            self.cached.extend_from_slice(chunk);
        }

        let mut sampler = sampler(self.model, request);
        let mut text = Utf8Pieces::default();
        let mut first_at = None;
        let mut logits_at = batch.n_tokens() - 1;
        let finish = loop {
            if cancel.load(Ordering::Relaxed) {
                break Finish::Cancelled;
            }
            let token = sampler.sample(ctx, logits_at);
            if self.model.vocab().is_eog(token) {
                break Finish::Stop;
            }
            stats.generated_tokens += 1;
            let now = Instant::now();
            first_at.get_or_insert(now);
            let piece = text.push(&self.model.vocab().token_to_piece(token, false, None));
            if !piece.is_empty() && !sink(Event::Text(piece)) {
                break Finish::Cancelled;
            }
            if stats.generated_tokens >= request.max_tokens as usize || self.cached.len() + 1 >= self.window as usize {
                break Finish::Length;
            }
            batch.clear();
            batch.add(token, self.cached.len() as i32, &[0], true).map_err(|e| LlmError::Failed(e.to_string()))?;
            self.decode(ctx, &mut batch)?;
            self.cached.push(token);
            logits_at = 0;
        };
        let rest = text.finish();
        if !rest.is_empty() && finish != Finish::Cancelled {
            sink(Event::Text(rest));
        }
        if let Some(first) = first_at {
            stats.first_token_ms = (first - started).as_secs_f64() * 1e3;
            let after = first.elapsed().as_secs_f64();
            if stats.generated_tokens > 1 && after > 0.0 {
                stats.tokens_per_second = (stats.generated_tokens - 1) as f64 / after;
            }
        }
        Ok((finish, stats))
    }

    fn decode(&mut self, ctx: &mut LlamaContext, batch: &mut LlamaBatch) -> Result<(), LlmError> {
        ctx.decode(batch).map_err(|e| {
            // What the cache holds is no longer known: start afresh next time.
            ctx.clear_kv_cache();
            self.cached.clear();
            LlmError::Failed(e.to_string())
        })
    }
}

/// Sampling as llama.cpp's server does by default, with a light penalty on
/// repeats (small models loop without one); greedy at temperature 0.
fn sampler(model: &LlamaModel, request: &Request) -> LlamaSampler {
    let penalties = LlamaSampler::penalties(model.n_vocab(), 64, 1.1, 0.0, 0.0);
    if request.temperature <= 0.0 {
        return LlamaSampler::chain_simple([penalties, LlamaSampler::greedy()]);
    }
    LlamaSampler::chain_simple([
        penalties,
        LlamaSampler::top_k(40),
        LlamaSampler::top_p(0.95, 1),
        LlamaSampler::min_p(0.05, 1),
        LlamaSampler::temp(request.temperature),
        LlamaSampler::dist(request.seed),
    ])
}
