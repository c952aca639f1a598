//! What a later step reads of a write that a dry run did not make: a placeholder that names
//! the value it stands for (`<not sent: steps.invoice.body.id>`), whatever field is read from
//! it, so that the rest of the plan can still be shown.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use minijinja::Value;
use minijinja::value::{Object, ObjectRepr};

use crate::steps;
use crate::template::context;

/// The `steps` a template sees: each result as it is, an unsent write's as a placeholder.
pub(super) fn steps_context(results: &BTreeMap<String, serde_json::Value>) -> Value {
    let map: BTreeMap<String, Value> = results
        .iter()
        .map(|(id, result)| (id.clone(), value(&format!("steps.{id}"), result)))
        .collect();
    Value::from(map)
}

/// A result, with the unsent writes in it (a `for_each` item's, say) turned into placeholders.
fn value(path: &str, result: &serde_json::Value) -> Value {
    if steps::is_unsent(result) {
        return Value::from_object(Unsent {
            path: path.to_owned(),
        });
    }
    match result {
        serde_json::Value::Array(items) if items.iter().any(steps::is_unsent) => items
            .iter()
            .enumerate()
            .map(|(index, item)| value(&format!("{path}[{index}]"), item))
            .collect(),
        other => context(other),
    }
}

/// A value a dry run does not have. Any field of it is another placeholder; it reads as text.
#[derive(Debug)]
struct Unsent {
    path: String,
}

impl Object for Unsent {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        // Plain: it serialises as its text, so a typed template gets a string.
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let path = match key.as_str() {
            Some(name) => format!("{}.{name}", self.path),
            None => format!("{}[{key}]", self.path),
        };
        Some(Value::from_object(Unsent { path }))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result
    where
        Self: Sized + 'static,
    {
        write!(f, "<not sent: {}>", self.path)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::steps_context;
    use crate::steps::unsent;

    fn render(source: &str, results: &BTreeMap<String, serde_json::Value>) -> String {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.render_str(
            source,
            minijinja::context! { steps => steps_context(results) },
        )
        .unwrap()
    }

    #[test]
    fn an_unsent_write_reads_as_placeholders_naming_what_was_read() {
        let results = BTreeMap::from([
            ("deal".to_owned(), json!({"body": {"id": 42}})),
            ("invoice".to_owned(), unsent()),
            ("each".to_owned(), json!([unsent(), {"body": {"id": 7}}])),
        ]);
        assert_eq!(render("{{ steps.deal.body.id }}", &results), "42");
        assert_eq!(
            render("{{ steps.invoice.body.id }}", &results),
            "<not sent: steps.invoice.body.id>"
        );
        assert_eq!(
            render(
                "{{ steps.each[0].status }} {{ steps.each[1].body.id }}",
                &results
            ),
            "<not sent: steps.each[0].status> 7"
        );
        assert_eq!(
            render("{% if steps.invoice %}yes{% endif %}", &results),
            "yes"
        );
        // A typed template reads it as JSON: a string.
        let typed: serde_json::Value =
            serde_json::from_str(&render("{{ steps.invoice.body | tojson }}", &results)).unwrap();
        assert_eq!(typed, json!("<not sent: steps.invoice.body>"));
    }
}
