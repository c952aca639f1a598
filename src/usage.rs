//! The error for "you asked for something that cannot be": an unknown name, a bad param value, a
//! missing secret, a file that cannot be found. Nothing ran; the exit code is 2.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UsageError {
    pub message: String,
    pub hint: Option<String>,
}

impl UsageError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<Option<String>>) -> Self {
        self.hint = hint.into();
        self
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UsageError {}
