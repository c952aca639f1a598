//! What started a run: a person at a terminal, a scheduler, a webhook. [`Trigger`] is the one
//! encoding of it — stored with the run, shown by `history`, and read by templates as
//! `trigger` (what each door's trigger holds is tested with the other scopes, in `scope`). The
//! doors (`crate::door`) build it; the run lifecycle does the rest.

use std::collections::BTreeMap;

use anyhow::bail;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What started a run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Trigger {
    /// `integ run` by a person (or a script).
    Manual,
    /// `integ run --scheduled`: cron, a systemd timer, a Kubernetes CronJob.
    Schedule,
    /// A webhook accepted by `integ serve-hook`.
    Webhook(Request),
    /// A button or link (`/run/NAME` on `integ serve-hook`): its query and form fields, which
    /// its params come from. Steps read its params, not the request.
    Link(LinkRequest),
}

/// A link's request as its run keeps it: never its key or signature.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LinkRequest {
    /// In order, each name as often as it was given: `?tags=a&tags=b` is a list of two.
    #[serde(deserialize_with = "pairs")]
    pub(crate) query: Vec<(String, String)>,
    #[serde(deserialize_with = "pairs")]
    pub(crate) form: Vec<(String, String)>,
    /// Who sent it: the peer's address.
    pub(crate) remote: Option<String>,
    /// The id of the key that signed the link, for a signed one.
    pub(crate) key_id: Option<String>,
}

/// An HTTP request as a run sees it. Credential headers are never part of it (see
/// [`Request::without_credentials`]): what a run sees is also what the store keeps.
///
/// Events stored by earlier versions also hold `kind`, which is ignored when they are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Request {
    pub(crate) body: Value,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) query: BTreeMap<String, String>,
}

/// Headers that carry credentials in any request; a hook's own token or signature header is
/// added to these by the door.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

impl Request {
    /// The request without `Authorization`, `Proxy-Authorization`, `Cookie` and the `extra`
    /// headers (a hook's token or signature header). Header names are lowercase.
    pub(crate) fn without_credentials(mut self, extra: &[&str]) -> Request {
        self.headers.retain(|name, _| {
            !CREDENTIAL_HEADERS.contains(&name.as_str())
                && !extra.iter().any(|header| header.eq_ignore_ascii_case(name))
        });
        self
    }
}

/// The members of `trigger` in templates, for each door; `kind` is always there. `integ check`
/// uses these lists, and a test holds them to what [`Trigger::scope`] gives.
pub(crate) const MANUAL_FIELDS: &[&str] = &["kind"];
pub(crate) const WEBHOOK_FIELDS: &[&str] = &["kind", "body", "headers", "query"];
/// What a link's `params` mapping reads: its query.
pub(crate) const LINK_FIELDS: &[&str] = &["kind", "query"];

impl Trigger {
    /// The door's name, as stored and shown: `manual`, `schedule`, `webhook`.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::Webhook(_) => "webhook",
            Trigger::Link(_) => "link",
        }
    }

    /// What templates read as `trigger`.
    pub(crate) fn scope(&self) -> Value {
        let mut scope = json!({ "kind": self.kind() });
        match (self, &mut scope) {
            (Trigger::Webhook(request), Value::Object(map)) => {
                map.insert("body".into(), request.body.clone());
                map.insert("headers".into(), json!(request.headers));
                map.insert("query".into(), json!(request.query));
            }
            // Only a link's `params` mapping reads its query; its steps read params.
            (Trigger::Link(request), Value::Object(map)) => {
                // By name, as templates read it; a name given twice reads as its last value.
                let query: BTreeMap<&str, &str> = request
                    .query
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect();
                map.insert("query".into(), json!(query));
            }
            _ => {}
        }
        scope
    }

    /// What the store keeps besides the kind: the request of a webhook, nothing otherwise.
    pub(crate) fn data(&self) -> Value {
        match self {
            Trigger::Manual | Trigger::Schedule => json!({}),
            Trigger::Webhook(request) => json!(request),
            Trigger::Link(request) => json!(request),
        }
    }

    /// The trigger again from what the store kept.
    pub(crate) fn from_stored(kind: &str, data: Value) -> anyhow::Result<Trigger> {
        Ok(match kind {
            "manual" => Trigger::Manual,
            "schedule" => Trigger::Schedule,
            "webhook" => Trigger::Webhook(serde_json::from_value(data)?),
            "link" => Trigger::Link(serde_json::from_value(data)?),
            other => bail!("unknown trigger `{other}` in the run store"),
        })
    }
}

/// A link's query or form fields as stored: pairs, or a map of one value a name from events
/// stored by earlier versions.
fn pairs<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, String)>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Pairs(Vec<(String, String)>),
        ByName(BTreeMap<String, String>),
    }
    Ok(match Stored::deserialize(deserializer)? {
        Stored::Pairs(pairs) => pairs,
        Stored::ByName(map) => map.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::{LinkRequest, Request, Trigger};

    #[test]
    fn stored_triggers_read_back_the_same() {
        let request = Request {
            body: json!({"data": {"entityId": 7}}),
            headers: BTreeMap::from([("x-event".into(), "created".into())]),
            query: BTreeMap::from([("source".into(), "crm".into())]),
        };
        for trigger in [
            Trigger::Manual,
            Trigger::Schedule,
            Trigger::Webhook(request),
        ] {
            let back = Trigger::from_stored(trigger.kind(), trigger.data()).unwrap();
            assert_eq!(back, trigger);
        }
        assert!(Trigger::from_stored("carrier-pigeon", json!({})).is_err());
        // As earlier versions stored a queued event: it still runs after an upgrade.
        let earlier = json!({"kind": "webhook", "body": {"id": 1}, "headers": {}, "query": {}});
        assert_eq!(
            Trigger::from_stored("webhook", earlier).unwrap(),
            Trigger::Webhook(Request {
                body: json!({"id": 1}),
                ..Request::default()
            })
        );
    }

    #[test]
    fn credential_headers_are_left_out() {
        let request = Request {
            headers: BTreeMap::from([
                ("authorization".into(), "Bearer s3cret".into()),
                ("cookie".into(), "session=1".into()),
                ("proxy-authorization".into(), "Basic eA==".into()),
                ("x-raynetcrm-token".into(), "t0ken".into()),
                ("x-event".into(), "created".into()),
            ]),
            ..Request::default()
        };
        let kept = request.without_credentials(&["X-RAYNETCRM-Token"]);
        assert_eq!(kept.headers.keys().collect::<Vec<_>>(), ["x-event"]);
    }

    #[test]
    fn a_link_request_keeps_every_value_and_reads_the_map_earlier_versions_stored() {
        let request = LinkRequest {
            query: vec![("ids".into(), "x".into()), ("ids".into(), "y".into())],
            ..LinkRequest::default()
        };
        let trigger = Trigger::Link(request.clone());
        assert_eq!(
            Trigger::from_stored("link", trigger.data()).unwrap(),
            trigger
        );
        let older = json!({"query": {"month": "2026-11"}, "form": {}, "remote": null});
        let Trigger::Link(read) = Trigger::from_stored("link", older).unwrap() else {
            panic!("not a link");
        };
        assert_eq!(read.query, [("month".to_owned(), "2026-11".to_owned())]);
    }
}
