//! The registry: the domain counters, the exporter's own, and the
//! rate-limit refusals read from the gateway's hash at scrape time.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::events::{self, Domain, Labels, RATE_LIMIT_CLASSES};

/// What `/metrics` answers with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// At most this many `type`/`service` pairs in `vottery_events_total`;
/// later new pairs count as `type="other",service="other"`.
const MAX_EVENT_SERIES: usize = 128;

type EventLabels = [(&'static str, String); 2];

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    events: Family<EventLabels, Counter>,
    event_series: Mutex<usize>,
    malformed: Counter,
    domain: BTreeMap<Domain, Family<Labels, Counter>>,
    reconnects: Counter,
    subscribed: Gauge,
    rate_limited: Arc<RateLimited>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let events = Family::<EventLabels, Counter>::default();
        registry.register("vottery_events", "Events seen on the channel, by type and service", events.clone());
        let malformed = Counter::default();
        registry.register(
            "vottery_events_malformed",
            "Messages on the channel that are not JSON or have no type",
            malformed.clone(),
        );
        let mut domain = BTreeMap::new();
        for counter in Domain::ALL {
            let family = Family::<Labels, Counter>::default();
            let (name, help) = counter.describe();
            registry.register(name, help, family.clone());
            domain.insert(counter, family);
        }
        let reconnects = Counter::default();
        registry.register(
            "vottery_events_exporter_reconnects",
            "Times the subscription was lost or could not be made and was tried again",
            reconnects.clone(),
        );
        let subscribed = Gauge::default();
        registry.register(
            "vottery_events_exporter_subscribed",
            "1 while subscribed to the event channel",
            subscribed.clone(),
        );
        let rate_limited = Arc::new(RateLimited::default());
        registry.register_collector(Box::new(rate_limited.clone()));
        let metrics = Self {
            registry,
            events,
            event_series: Mutex::new(0),
            malformed,
            domain,
            reconnects,
            subscribed,
            rate_limited,
        };
        metrics.start_at_zero();
        metrics
    }

    /// Series whose labels are known up front exist from the start, so
    /// `rate()` sees their first increase.
    fn start_at_zero(&self) {
        for (counter, family) in &self.domain {
            for labels in counter.initial_series() {
                let _ = family.get_or_create(&labels);
            }
        }
    }

    /// Counts one message from the channel.
    pub fn record(&self, payload: &[u8]) {
        let Some(event) = events::parse(payload) else {
            self.malformed.inc();
            return;
        };
        let mut labels = [("type", event.kind), ("service", event.service)];
        let known = self.events.get(&labels).is_some();
        if !known && let Ok(mut series) = self.event_series.lock() {
            if *series >= MAX_EVENT_SERIES {
                labels = [("type", "other".to_owned()), ("service", "other".to_owned())];
            }
            let new = self.events.get(&labels).is_none();
            if new {
                *series += 1;
                let _ = self.events.get_or_create(&labels);
            }
        }
        self.events.get_or_create(&labels).inc();
        for bump in event.bumps {
            if let Some(family) = self.domain.get(&bump.counter) {
                family.get_or_create(&bump.labels).inc_by(bump.by);
            }
        }
    }

    pub fn reconnecting(&self) {
        self.reconnects.inc();
    }

    pub fn set_subscribed(&self, subscribed: bool) {
        self.subscribed.set(i64::from(subscribed));
    }

    /// Replaces the refusal counts with the gateway's hash (field: route
    /// class, value: count); fields outside the known classes add up in
    /// `class="other"`.
    pub fn set_rate_limited(&self, hash: &HashMap<String, String>) {
        let mut counts: BTreeMap<&'static str, u64> = RATE_LIMIT_CLASSES.iter().map(|c| (*c, 0)).collect();
        for (class, value) in hash {
            let slot = counts.entry(events::bounded(Some(class), RATE_LIMIT_CLASSES)).or_insert(0);
            *slot = slot.saturating_add(value.trim().parse::<u64>().unwrap_or(0));
        }
        if let Ok(mut current) = self.rate_limited.counts.lock() {
            *current = counts;
        }
    }

    /// The OpenMetrics text of everything.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// `vottery_rate_limited_total{class}`: the last counts read from Redis.
#[derive(Debug)]
struct RateLimited {
    counts: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for RateLimited {
    fn default() -> Self {
        Self { counts: Mutex::new(RATE_LIMIT_CLASSES.iter().map(|c| (*c, 0)).collect()) }
    }
}

impl Collector for RateLimited {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counts = self.counts.lock().map(|c| c.clone()).unwrap_or_default();
        let counter = ConstCounter::new(0_u64);
        let mut family = encoder.encode_descriptor(
            "vottery_rate_limited",
            "Requests the gateway refused with 429, by route class (from <ns>:metrics:rate_limited).",
            None,
            counter.metric_type(),
        )?;
        for (class, count) in counts {
            ConstCounter::new(count).encode(family.encode_family(&[("class", class)])?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, series: &str) -> Option<&'a str> {
        text.lines().find(|l| l.strip_prefix(series).is_some_and(|rest| rest.starts_with(' ')))
    }

    #[test]
    fn recorded_events_show_in_the_encoded_text() -> Result<(), std::fmt::Error> {
        let metrics = Metrics::new();

        metrics.record(br#"{"type":"otp.sent","service":"auth","email":"delivered","sms":"rejected"}"#);
        metrics.record(br#"{"type":"otp.locked_out","service":"auth"}"#);
        metrics.record(b"garbage");
        let text = metrics.encode()?;

        assert_eq!(
            line(&text, r#"vottery_events_total{type="otp.sent",service="auth"}"#),
            Some(r#"vottery_events_total{type="otp.sent",service="auth"} 1"#)
        );
        assert!(line(&text, r#"vottery_otp_codes_sent_total{channel="email"}"#).is_some_and(|l| l.ends_with(" 1")));
        assert!(line(&text, r#"vottery_otp_codes_sent_total{channel="sms"}"#).is_some_and(|l| l.ends_with(" 0")));
        let failure = r#"vottery_otp_send_failures_total{channel="sms",outcome="rejected"}"#;
        assert!(line(&text, failure).is_some_and(|l| l.ends_with(" 1")));
        assert!(line(&text, "vottery_otp_lockouts_total").is_some_and(|l| l.ends_with(" 1")));
        assert!(line(&text, "vottery_events_malformed_total").is_some_and(|l| l.ends_with(" 1")));
        assert!(text.ends_with("# EOF\n"));
        Ok(())
    }

    #[test]
    fn the_rate_limited_hash_is_exported_by_class_with_strangers_summed_as_other() -> Result<(), std::fmt::Error> {
        let metrics = Metrics::new();
        let hash: HashMap<String, String> =
            [("otp-send", "4"), ("read", "2"), ("x1", "5"), ("x2", "6"), ("write", "not a number")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();

        metrics.set_rate_limited(&hash);
        let text = metrics.encode()?;

        let count = |class: &str| line(&text, &format!("vottery_rate_limited_total{{class=\"{class}\"}}"));
        assert_eq!(count("otp-send"), Some(r#"vottery_rate_limited_total{class="otp-send"} 4"#));
        assert!(count("read").is_some_and(|l| l.ends_with(" 2")));
        assert!(count("other").is_some_and(|l| l.ends_with(" 11")));
        assert!(count("write").is_some_and(|l| l.ends_with(" 0")));
        assert!(count("admin").is_some_and(|l| l.ends_with(" 0")));
        Ok(())
    }

    #[test]
    fn new_event_types_beyond_the_series_cap_count_as_other() -> Result<(), std::fmt::Error> {
        let metrics = Metrics::new();

        for i in 0..MAX_EVENT_SERIES + 5 {
            metrics.record(format!(r#"{{"type":"made.up{i}","service":"x"}}"#).as_bytes());
        }
        let text = metrics.encode()?;

        assert_eq!(text.lines().filter(|l| l.starts_with("vottery_events_total{")).count(), MAX_EVENT_SERIES + 1);
        assert!(
            line(&text, r#"vottery_events_total{type="other",service="other"}"#).is_some_and(|l| l.ends_with(" 5"))
        );
        Ok(())
    }
}
