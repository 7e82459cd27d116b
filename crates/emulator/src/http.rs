//! The HTTP/1.1 listener on loopback that serves the router to kubectl and other processes.
//! The `down` fault switch (and [`Cluster::stop_listener`](super::Cluster::stop_listener))
//! takes it away — every connection cut, the port closed — and brings it back on the same
//! address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::faults::{Faults, ListenerState};
use super::router::Router;

/// How the accept loop ended.
enum Ended {
    Shutdown,
    Down,
}

/// Serves connections until `shutdown` turns true, then lets open ones finish (watches end
/// on shutdown too) for a few seconds. While the fault switches want the listener down, the
/// port is closed and every connection is cut without a goodbye.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    faults: Arc<Faults>,
) {
    let addr = listener.local_addr().ok();
    let mut want_up = faults.wanted_listener();
    let mut listener = Some(listener);
    loop {
        if let Some(l) = listener.take() {
            faults.report_listener(ListenerState::Up);
            match accept_loop(l, &router, &mut shutdown, &mut want_up).await {
                Ended::Shutdown => return,
                Ended::Down => faults.report_listener(ListenerState::Down),
            }
        }
        // Down: wait to be wanted again (or for the end).
        tokio::select! {
            r = want_up.wait_for(|up| *up) => {
                if r.is_err() {
                    return;
                }
            }
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let Some(addr) = addr else {
            faults.report_listener(ListenerState::Failed("the old address is unknown".into()));
            return;
        };
        match rebind(addr).await {
            Ok(l) => listener = Some(l),
            Err(e) => {
                faults.report_listener(ListenerState::Failed(format!(
                    "cannot listen on {addr} again: {e}"
                )));
                // Stay down until asked again.
                want_up.borrow_and_update();
                tokio::select! {
                    r = want_up.changed() => {
                        if r.is_err() {
                            return;
                        }
                    }
                    _ = shutdown.wait_for(|s| *s) => return,
                }
            }
        }
    }
}

/// Binds the old address again; the port may take a moment to be free.
async fn rebind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let mut last = None;
    for _ in 0..50 {
        match TcpListener::bind(addr).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("bind failed")))
}

async fn accept_loop(
    listener: TcpListener,
    router: &Router,
    shutdown: &mut watch::Receiver<bool>,
    want_up: &mut watch::Receiver<bool>,
) -> Ended {
    let mut conns = JoinSet::new();
    let ended = loop {
        if *shutdown.borrow() {
            break Ended::Shutdown;
        }
        if !*want_up.borrow() {
            break Ended::Down;
        }
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!("emulator: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(router.clone());
                let mut stop = shutdown.clone();
                conns.spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
            _ = shutdown.changed() => break Ended::Shutdown,
            _ = want_up.changed() => {}
        }
        while conns.try_join_next().is_some() {}
    };
    drop(listener);
    match ended {
        Ended::Down => {
            // A crash, not a goodbye: connections just go.
            conns.abort_all();
            while conns.join_next().await.is_some() {}
        }
        Ended::Shutdown => {
            let drain = async { while conns.join_next().await.is_some() {} };
            if tokio::time::timeout(Duration::from_secs(5), drain)
                .await
                .is_err()
            {
                conns.abort_all();
            }
        }
    }
    ended
}
