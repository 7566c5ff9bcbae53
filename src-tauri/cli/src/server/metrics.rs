//! `/metrics` in Prometheus' text format (through the official client crate):
//! turns answered by how they were asked, turns in flight, time from the
//! finished upload to the first audio sent, and errors by code.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    /// `mp3` (the tutorial's form), `sse`, or `websocket`.
    form: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Code {
    code: String,
}

pub struct Metrics {
    registry: Registry,
    turns: Family<Route, Counter>,
    in_flight: Gauge,
    ttfa: Histogram,
    errors: Family<Code, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sori");
        let turns = Family::<Route, Counter>::default();
        registry.register("turns", "Turns answered, by the form they were asked in", turns.clone());
        let in_flight = Gauge::default();
        registry.register("turns_in_flight", "Turns running now", in_flight.clone());
        // 50 ms to about 13 s.
        let ttfa = Histogram::new([0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0]);
        registry.register("time_to_first_audio_seconds", "From the whole question received to the first audio sent", ttfa.clone());
        let errors = Family::<Code, Counter>::default();
        registry.register("errors", "Requests answered with an error, by its code", errors.clone());
        Metrics { registry, turns, in_flight, ttfa, errors }
    }
}

impl Metrics {
    pub fn turn_started(&self, form: &str) -> InFlight {
        self.turns.get_or_create(&Route { form: form.into() }).inc();
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    pub fn first_audio(&self, seconds: f64) {
        self.ttfa.observe(seconds);
    }

    pub fn error(&self, code: &str) {
        self.errors.get_or_create(&Code { code: code.into() }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("metrics encode into a String");
        out
    }
}

/// Counts a turn as in flight until dropped.
pub struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}
