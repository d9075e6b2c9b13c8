//! Outgoing mail over SMTP (lettre): the customer's welcome email and the admin's notices.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{ConfigError, MailConfig};

/// One message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipient address.
    pub to: String,
    /// Subject line (customer text in it is kept to one line).
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The address or message is unusable; retrying will not help.
    #[error("{0}")]
    Invalid(String),
    /// The server could not be reached or refused for now.
    #[error("SMTP: {0}")]
    Transport(String),
}

/// Sends mail through the configured SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// Who receives admin notices.
    pub admin: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The transport holds the SMTP credentials.
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the transport from `SMTP_URL`; errors name the variable.
    pub fn new(config: &MailConfig) -> Result<Self, ConfigError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(config.smtp_url.expose())
            .map_err(|_| ConfigError {
                variable: "SMTP_URL",
                message: "not a usable SMTP URL (smtp://host:port or smtps://user:pass@host:465)"
                    .to_owned(),
            })?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = config.from.parse().map_err(|_| ConfigError {
            variable: "EMAIL_FROM",
            message: format!("{:?} is not an email address", config.from),
        })?;
        config.admin.parse::<Mailbox>().map_err(|_| ConfigError {
            variable: "ADMIN_EMAIL",
            message: format!("{:?} is not an email address", config.admin),
        })?;
        Ok(Self {
            transport,
            from,
            admin: config.admin.clone(),
        })
    }

    /// Sends one message.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Invalid(format!("{:?} is not an email address", mail.to)))?;
        let subject: String = mail
            .subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Invalid(e.to_string()))?;
        let sent = self.transport.send(message).await;
        crate::metrics::global().email(mail.to == self.admin, sent.is_ok());
        sent.map_err(|e| {
            if e.is_permanent() {
                MailError::Invalid(format!("SMTP server refused the message: {e}"))
            } else {
                MailError::Transport(e.to_string())
            }
        })?;
        Ok(())
    }
}
