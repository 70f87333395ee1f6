//! Property tests of the conversions every request and event goes through (issue 13, item 2):
//! whatever the bytes or text, the edge, the request parsers, the date conversion and the event
//! decoder answer with a refusal that names its field and quotes a bounded prefix, or a value;
//! never a panic, never an internal error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step fails it

use egov_platform::{
    AppError, convert,
    edge::{self, TextKind, TextLimits},
    request,
};
use egov_proto::{common::CivilDate, events::EventEnvelope};
use proptest::prelude::*;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MessageDescriptor, Value};

/// Longest refusal text for any input. The quoted prefix is at most 64 characters, but each may
/// be escaped (`\u{3347a}`: 9 characters for one), so a refusal stays under about 700; a value
/// of 5,000 or 1,000,000 characters never comes back whole.
const MAX_DESCRIPTION: usize = 1000;

fn inputs() -> Vec<MessageDescriptor> {
    let pool = DescriptorPool::decode(egov_proto::FILE_DESCRIPTOR_SET).unwrap();
    let mut v: Vec<MessageDescriptor> = pool.services().flat_map(|s| s.methods().map(|m| m.input()).collect::<Vec<_>>()).collect();
    v.sort_by(|a, b| a.full_name().cmp(b.full_name()));
    v.dedup_by(|a, b| a.full_name() == b.full_name());
    v
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8];
    b.extend_from_slice(&u32::try_from(payload.len()).unwrap().to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// Refusals name a field and stay short.
fn bounded(e: &AppError) {
    match e {
        AppError::InvalidArgument(vs) => {
            assert!(!vs.is_empty());
            for v in vs {
                assert!(!v.field.is_empty(), "{v:?}");
                assert!(v.description.chars().count() <= MAX_DESCRIPTION, "{} characters: {v:?}", v.description.chars().count());
            }
        }
        other => panic!("not INVALID_ARGUMENT: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any body, framed or not, for the input of any method of any service.
    #[test]
    fn the_edge_answers_any_body_with_a_value_or_a_named_refusal(n in 0usize..1000, raw in proptest::collection::vec(any::<u8>(), 0..300), framed in any::<bool>()) {
        let all = inputs();
        let input = &all[n % all.len()];
        let body = if framed { frame(&raw) } else { raw };
        if let Err(e) = edge::inspect(input, &body, &TextLimits::default()) {
            bounded(&e);
        }
    }

    /// Any text in any string field of any request: control characters and oversize values are
    /// refused naming the field's path; the rest passes.
    #[test]
    fn the_edge_refuses_control_characters_and_oversize_text_by_field(n in 0usize..1000, text in "\\PC{0,40}|[\\x00-\\x1f\\x7f]{1,3}|.{0,5}\\x00.{0,5}", repeat in 1usize..400) {
        let all = inputs();
        let Some((input, field)) = all.iter().cycle().skip(n % all.len()).take(all.len()).find_map(|m| {
            m.fields().find(|f| matches!(f.kind(), Kind::String) && !f.is_list() && !f.is_map()).map(|f| (m.clone(), f))
        }) else { return Ok(()) };
        let value = text.repeat(repeat);
        let mut msg = DynamicMessage::new(input.clone());
        msg.set_field(&field, Value::String(value.clone()));
        let limits = TextLimits::default();
        let expected = limits.check(field.name(), TextKind::of(field.name()), &value);
        match edge::inspect(&input, &frame(&msg.encode_to_vec()), &limits) {
            Ok(()) => prop_assert!(expected.is_none(), "{} passed: {expected:?}", field.name()),
            Err(e) => {
                bounded(&e);
                let AppError::InvalidArgument(vs) = e else { unreachable!() };
                prop_assert_eq!(&vs[0].field, field.name());
                prop_assert!(expected.is_some());
            }
        }
    }

    /// Ids, etags and pages: any text gives a value or a refusal naming the field.
    #[test]
    fn request_fields_parse_or_refuse_by_name(raw in "\\PC{0,60}|[0-9a-f-]{36}|.{0,3}", long in 0usize..6000, size in any::<i32>()) {
        let text = if long > 5000 { raw.repeat(long / raw.len().max(1)) } else { raw.clone() };
        for (field, r) in [
            ("application_id", request::id("application_id", &text).map(|_| ())),
            ("project_id", request::project_id("project_id", &text).map(|_| ())),
            ("etag", request::etag("etag", &text).map(|_| ())),
            ("page_token", request::page(10, &text).map(|_| ())),
            ("page_token", request::keyed_page(10, &text).map(|_| ())),
        ] {
            if let Err(v) = r {
                prop_assert_eq!(v.field.as_str(), field);
                prop_assert!(v.description.chars().count() <= MAX_DESCRIPTION);
            }
        }
        if let Err(v) = request::page(size, "") {
            prop_assert_eq!(v.field.as_str(), "page_size");
        }
    }

    /// Civil dates: a value exactly when the calendar has that day.
    #[test]
    fn civil_dates_convert_exactly_when_the_day_exists(year in -10_000i32..20_000, month in -3i32..16, day in -3i32..40) {
        let d = CivilDate { year, month, day };
        let valid = u8::try_from(month).ok().and_then(|m| time::Month::try_from(m).ok())
            .zip(u8::try_from(day).ok())
            .is_some_and(|(m, dd)| time::Date::from_calendar_date(year, m, dd).is_ok());
        match convert::date("held_on", Some(&d)) {
            Ok(date) => {
                prop_assert!(valid, "{d:?}");
                prop_assert_eq!(convert::civil(date), d);
            }
            Err(v) => {
                prop_assert_eq!(v.field.as_str(), "held_on");
                prop_assert!(!valid, "{d:?} refused: {v:?}");
            }
        }
    }

    /// Events: any bytes decode or fail to decode; a decoded envelope encodes back to itself.
    #[test]
    fn event_envelopes_decode_or_fail_without_panicking(raw in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(e) = EventEnvelope::decode(raw.as_slice()) {
            let again = EventEnvelope::decode(e.encode_to_vec().as_slice()).unwrap();
            prop_assert_eq!(again, e);
        }
    }
}
