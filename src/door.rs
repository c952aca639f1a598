//! The doors through which runs start besides `integ run`: today the webhook door, served by
//! the listener. A door turns its request into a [`crate::trigger::Trigger`] and params; the
//! queue and the run lifecycle do the rest.

pub(crate) mod link;
pub(crate) mod schedule;
pub(crate) mod webhook;
