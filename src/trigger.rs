//! What starts runs besides `integ run`: today the webhook listener. Triggers only build a
//! run's context; the engine runs it.

pub mod webhook;
