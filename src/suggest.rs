//! "Did you mean …?" for names the user mistyped.

/// A hint naming the closest candidate, when one is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::damerau_levenshtein(name, candidate), candidate))
        .filter(|(distance, candidate)| {
            *distance <= 2.max(name.len() / 4) && *distance < candidate.len()
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| format!("did you mean `{candidate}`?"))
}

/// `a`, `b`, `c`: for "expected one of" lists.
pub(crate) fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn suggests_close_names_only() {
        let names = ["hello", "monthly-report"];
        assert_eq!(
            did_you_mean("helo", names).as_deref(),
            Some("did you mean `hello`?")
        );
        assert_eq!(
            did_you_mean("monthly-reprot", names).as_deref(),
            Some("did you mean `monthly-report`?")
        );
        assert_eq!(did_you_mean("xyz", names), None);
    }
}
