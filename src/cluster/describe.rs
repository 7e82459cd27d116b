//! Cluster errors in words a person can act on: what failed and why, the whole chain of
//! causes on one line, expired credentials named as such.

/// One line for a kube error: the server's message and code, or the transport failure
/// with its causes (`error trying to connect: tcp connect error: Connection refused`).
pub fn describe_kube(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 401 => format!(
            "the cluster refused the credentials (401 {}): the token or certificate may have expired; log in again or fix the kubeconfig user",
            if s.message.is_empty() {
                "Unauthorized"
            } else {
                s.message.as_str()
            }
        ),
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        other => chain(other),
    }
}

/// An error and its sources, each said once.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_credentials_are_named() {
        let e = kube::Error::Api(
            kube::core::Status::failure("Unauthorized", "Unauthorized")
                .with_code(401)
                .boxed(),
        );
        let text = describe_kube(&e);
        assert!(
            text.contains("refused the credentials (401 Unauthorized)"),
            "{text}"
        );
        assert!(text.contains("expired"), "{text}");
    }

    #[test]
    fn causes_are_chained_once() {
        let inner =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let e = kube::Error::Service(Box::new(inner));
        assert_eq!(describe_kube(&e), "ServiceError: Connection refused");
    }
}
