//! Telemetry: `tracing` logs (JSON by default), OpenTelemetry traces and metrics over OTLP when
//! an endpoint is configured, and W3C trace context carried in gRPC metadata and AMQP headers.
//! The instruments themselves are in `metrics.rs`.

use std::collections::HashMap;

use opentelemetry::{
    global,
    propagation::{Extractor, Injector},
    trace::TracerProvider as _,
};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{metrics::SdkMeterProvider, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, filter::LevelFilter, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::TelemetrySettings;

/// Flushes traces and metrics on drop; keep it alive for the life of `main`.
#[must_use = "dropping the guard flushes and stops trace and metric export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    meters: Option<SdkMeterProvider>,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take()
            && let Err(e) = p.shutdown()
        {
            eprintln!("trace export shutdown: {e}");
        }
        if let Some(m) = self.meters.take()
            && let Err(e) = m.shutdown()
        {
            eprintln!("metric export shutdown: {e}");
        }
    }
}

/// Installs the global subscriber. Call once, from `main`; tests use [`init_for_tests`].
///
/// The OpenTelemetry layer is always installed, so every span has a trace id that travels in
/// gRPC metadata and AMQP headers and is stamped on audit records; spans are exported over OTLP
/// only when `otlp_endpoint` is set. Metrics likewise: with an endpoint, the global meter
/// provider (which each `Platform` records through) exports over OTLP/gRPC every 60 s (the SDK's
/// default; `OTEL_METRIC_EXPORT_INTERVAL` changes it); without one it stays OpenTelemetry's
/// no-op.
pub fn init(service: &str, settings: &TelemetrySettings) -> anyhow::Result<TelemetryGuard> {
    global::set_text_map_propagator(TraceContextPropagator::new());
    // The log filter applies to logs only: spans (and so trace context) exist at INFO whatever
    // the log level.
    let filter = EnvFilter::try_new(&settings.log_filter)?;
    let fmt_layer = if settings.log_format == "json" {
        tracing_subscriber::fmt::layer().json().with_current_span(true).with_span_list(false).with_filter(filter).boxed()
    } else {
        tracing_subscriber::fmt::layer().with_filter(filter).boxed()
    };
    let provider = tracer_provider(service, &settings.otlp_endpoint)?;
    let tracer = provider.tracer(format!("egov-{service}"));
    let otel = tracing_opentelemetry::layer().with_tracer(tracer).with_filter(LevelFilter::INFO);
    tracing_subscriber::registry().with(fmt_layer).with(otel).try_init()?;
    let meters = meter_provider(service, &settings.otlp_endpoint)?;
    Ok(TelemetryGuard { provider: Some(provider), meters })
}

/// The OTLP meter provider, made global; `None` (the global no-op stays) without an endpoint.
fn meter_provider(service: &str, endpoint: &str) -> anyhow::Result<Option<SdkMeterProvider>> {
    if endpoint.is_empty() {
        return Ok(None);
    }
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(format!("egov-{service}")).build();
    let exporter = opentelemetry_otlp::MetricExporter::builder().with_tonic().with_endpoint(endpoint.to_string()).build()?;
    let provider = SdkMeterProvider::builder().with_resource(resource).with_periodic_exporter(exporter).build();
    global::set_meter_provider(provider.clone());
    Ok(Some(provider))
}

fn tracer_provider(service: &str, endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(format!("egov-{service}")).build();
    let mut builder = SdkTracerProvider::builder().with_resource(resource);
    if !endpoint.is_empty() {
        let exporter = opentelemetry_otlp::SpanExporter::builder().with_tonic().with_endpoint(endpoint.to_string()).build()?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    global::set_tracer_provider(provider.clone());
    Ok(provider)
}

/// A quiet subscriber for tests (honours RUST_LOG), with trace ids; safe to call many times.
pub fn init_for_tests() {
    global::set_text_map_propagator(TraceContextPropagator::new());
    let Ok(provider) = tracer_provider("test", "") else { return };
    let tracer = provider.tracer("egov-test");
    let logs = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_test_writer().with_filter(logs))
        .with(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(LevelFilter::INFO))
        .try_init();
}

struct MapInjector<'a>(&'a mut HashMap<String, String>);
impl Injector for MapInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}

struct MapExtractor<'a>(&'a HashMap<String, String>);
impl Extractor for MapExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The current span's W3C trace context (`traceparent`, `tracestate`) as headers.
pub fn current_trace_headers() -> HashMap<String, String> {
    let mut map = HashMap::new();
    let cx = tracing::Span::current().context();
    global::get_text_map_propagator(|p| p.inject_context(&cx, &mut MapInjector(&mut map)));
    map
}

/// Makes `span` a child of the trace context in `headers` (AMQP headers or gRPC metadata).
pub fn set_parent_from_headers(span: &tracing::Span, headers: &HashMap<String, String>) {
    let cx = global::get_text_map_propagator(|p| p.extract(&MapExtractor(headers)));
    let _ = span.set_parent(cx);
}

/// The trace id of the current span, for audit records ("" when not traced).
pub fn current_trace_id() -> String {
    use opentelemetry::trace::TraceContextExt;
    let cx = tracing::Span::current().context();
    let sc = cx.span().span_context().clone();
    if sc.is_valid() { sc.trace_id().to_string() } else { String::new() }
}

/// Tower layer for servers: a span per gRPC call, parented on the caller's `traceparent`.
pub fn grpc_trace_span(req: &http::Request<()>) -> tracing::Span {
    let span = tracing::info_span!("grpc", method = %req.uri().path(), otel.kind = "server");
    let headers: HashMap<String, String> = ["traceparent", "tracestate"]
        .iter()
        .filter_map(|k| req.headers().get(*k).and_then(|v| v.to_str().ok()).map(|v| (k.to_string(), v.to_string())))
        .collect();
    if !headers.is_empty() {
        set_parent_from_headers(&span, &headers);
    }
    span
}

/// Client interceptor: sends the current trace context in gRPC metadata.
pub fn inject_trace_metadata(mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    for (k, v) in current_trace_headers() {
        if let (Ok(key), Ok(val)) = (tonic::metadata::MetadataKey::from_bytes(k.as_bytes()), v.parse()) {
            req.metadata_mut().insert(key, val);
        }
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn metrics_export_only_with_an_endpoint() {
        assert!(meter_provider("test", "").unwrap().is_none());
        // Connects lazily: no collector needs to listen for the provider to be built.
        assert!(meter_provider("test", "http://127.0.0.1:4317").unwrap().is_some());
    }
}
