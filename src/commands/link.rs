//! `integ link NAME -p …`: a signed, expiring URL that runs an integration through the
//! listener's link door, its params fixed by the signature.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Local, Utc};

use crate::cli::{GlobalArgs, LinkArgs};
use crate::commands::load_config;
use crate::config::kinds::LinkAuth;
use crate::door::link::signed;
use crate::exit::ExitStatus;
use crate::lifecycle::{self, ParamInput};
use crate::loaded::Loaded;
use crate::output::Printer;
use crate::params::{self, Unasked};
use crate::usage::UsageError;

/// The longest a link may last: a signed link is a bearer credential until it expires.
const MAX_EXPIRY: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

pub(crate) fn link(
    global: &GlobalArgs,
    args: &LinkArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let loaded = Loaded::new(load_config(global)?, Arc::new(env.clone()))?;
    let config = &loaded.config;
    let integration = config.integration(&args.name)?;
    let name = integration.name.clone();
    let Some(LinkAuth::Signed { keys }) = integration.link.as_ref().map(|link| &link.auth) else {
        return Err(UsageError::new(format!("`{name}` has no signed link to make"))
            .with_hint(format!(
                "add `[integration.{name}.link]` with `auth.signed = {{ secret = \"{{{{ secrets.link_key }}}}\" }}`"
            ))
            .into());
    };
    let expires: std::time::Duration = args.expires.into();
    if expires > MAX_EXPIRY || expires.is_zero() {
        return Err(UsageError::new(format!(
            "`--expires {}` is not between a second and 7d: a signed link works for anyone who has it until it expires",
            args.expires
        ))
        .into());
    }
    let given = params::split_assignments(&args.params)?;
    // Every value is checked as a run would check it, before anything is signed.
    lifecycle::resolve_params(
        config,
        integration,
        ParamInput::Assignments {
            given: &given,
            prompt: &Unasked,
        },
        Local::now(),
        &env,
    )
    .or_else(|err| {
        // A param left out is for the form to ask; any other problem is refused now.
        if err.message.starts_with("missing required param") {
            Ok(BTreeMap::new())
        } else {
            Err(err)
        }
    })?;
    let (kid, key) = keys.first().expect("validated: a signed link has a key");
    let kid = kid.clone();
    let key = crate::door::link::credential(&loaded, key)
        .map_err(|err| anyhow::anyhow!("failed to read the link key of `{name}`: {err}"))?;
    let exp = Utc::now().timestamp() + i64::try_from(expires.as_secs()).unwrap_or(i64::MAX);
    let path = format!("/run/{name}");
    let query = signed::sign(key.as_bytes(), &kid, &path, &given, exp);
    printer.data(&format!(
        "{}{path}?{query}",
        args.base_url.trim_end_matches('/')
    ));
    Ok(ExitStatus::Success)
}
