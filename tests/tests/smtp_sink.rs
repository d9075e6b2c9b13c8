//! The SMTP sink other tests use to receive mail: a real SMTP conversation over TCP must end up as
//! a stored message, and wrong credentials must be refused.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use stagesub_acceptance::SmtpSink;

/// A minimal SMTP client: sends `line` and returns the server's (last) reply line.
struct Conversation {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conversation {
    fn open(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut conversation = Self {
            reader: BufReader::new(stream.try_clone().unwrap()),
            writer: stream,
        };
        assert!(conversation.reply().starts_with("220"));
        conversation
    }

    fn reply(&mut self) -> String {
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            // Multi-line replies continue with "250-"; the last line has a space after the code.
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return line;
            }
        }
    }

    fn send(&mut self, line: &str) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        self.reply()
    }
}

#[test]
fn a_message_sent_over_smtp_is_stored_with_its_envelope() {
    let sink = SmtpSink::start_with_auth("resend", "s3cret");
    let mut smtp = Conversation::open(sink.port());
    assert!(smtp.send("EHLO test.localhost").starts_with("250"));
    // AUTH PLAIN with "\0resend\0s3cret", base64.
    assert!(
        smtp.send("AUTH PLAIN AHJlc2VuZABzM2NyZXQ=")
            .starts_with("235")
    );
    assert!(
        smtp.send("MAIL FROM:<hello@stagesub.test>")
            .starts_with("250")
    );
    assert!(
        smtp.send("RCPT TO:<conductor@orchestra.test>")
            .starts_with("250")
    );
    assert!(smtp.send("DATA").starts_with("354"));
    let reply = smtp.send("Subject: Your database is ready\r\n\r\nWelcome!\r\n.");
    assert!(reply.starts_with("250"), "{reply}");
    smtp.send("QUIT");

    let mails = sink.wait_for_messages(1, Duration::from_secs(10));
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].mail_from, "hello@stagesub.test");
    assert_eq!(mails[0].rcpt_tos, vec!["conductor@orchestra.test"]);
    assert_eq!(mails[0].auth_user.as_deref(), Some("resend"));
    assert!(mails[0].raw.contains("Subject: Your database is ready"));
    assert!(mails[0].raw.contains("Welcome!"));
}

#[test]
fn wrong_credentials_are_refused_and_nothing_is_stored() {
    let sink = SmtpSink::start_with_auth("resend", "s3cret");
    let mut smtp = Conversation::open(sink.port());
    smtp.send("EHLO test.localhost");
    // "\0resend\0wrong"
    assert!(
        smtp.send("AUTH PLAIN AHJlc2VuZAB3cm9uZw==")
            .starts_with("535")
    );
    smtp.send("QUIT");
    assert!(sink.messages().is_empty());
}
