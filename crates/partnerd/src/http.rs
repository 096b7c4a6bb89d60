//! The HTTP/1 accept loop: how long a client may take, and how many may be connected at once.
//!
//! axum's own `serve` sets no timeouts, so a client that sends half a request and then nothing
//! holds its connection (and task) forever. This loop serves the same router with:
//! - a connection cap: a connection is accepted only when one of `max_connections` slots is
//!   free; the next ones wait in the listen backlog, so the server keeps serving those it holds;
//! - a header timeout, counted from a request's first byte (from the connection's start for its
//!   first request), after which hyper closes the connection;
//! - an idle timeout between requests on a kept-alive connection;
//! - a body timeout: a request body must arrive within this long of its headers, or reading it
//!   fails (the surface answers 400) and the connection is closed.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};

/// Limits on what one client may hold. `Default` gives the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// A request's headers must arrive within this long of its first byte.
    pub header_timeout: Duration,
    /// A request's body must arrive within this long of its headers.
    pub body_timeout: Duration,
    /// A kept-alive connection with no request in progress is closed after this long.
    pub idle_timeout: Duration,
    /// Connections served at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
        }
    }
}

/// What the header and idle timers of one connection count from.
struct Activity {
    limits: HttpLimits,
    state: Mutex<ActivityState>,
}

struct ActivityState {
    /// When hyper began waiting for the next request head.
    waiting_since: Instant,
    /// The first byte read since then, if any: the request has begun.
    first_byte: Option<Instant>,
    /// Whether a request has been received on this connection (later waits are idle waits).
    served: bool,
}

impl Activity {
    fn new(limits: HttpLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(ActivityState { waiting_since: Instant::now(), first_byte: None, served: false }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ActivityState> {
        // The state is plain timestamps: a panic elsewhere cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn waiting_for_head(&self) {
        let mut s = self.lock();
        s.waiting_since = Instant::now();
        s.first_byte = None;
    }

    fn bytes_read(&self) {
        let mut s = self.lock();
        if s.first_byte.is_none() {
            s.first_byte = Some(Instant::now());
        }
    }

    fn request_received(&self) {
        self.lock().served = true;
    }

    /// When the current wait for a request head runs out.
    fn head_deadline(&self) -> Instant {
        let s = self.lock();
        match s.first_byte {
            Some(first) => first + self.limits.header_timeout,
            None if s.served => s.waiting_since + self.limits.idle_timeout,
            None => s.waiting_since + self.limits.header_timeout,
        }
    }
}

/// hyper's header-read timer, which starts whenever the connection waits for a request head,
/// made to expire at [`Activity::head_deadline`] instead: so an idle keep-alive connection gets
/// the idle timeout and a request that has begun gets the header timeout.
#[derive(Clone)]
struct HeadTimer(Arc<Activity>);

struct HeadSleep {
    activity: Arc<Activity>,
    sleep: Pin<Box<Sleep>>,
}

impl Future for HeadSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // hyper polls this after every read that did not complete the head, so a first byte
        // moves the deadline in time.
        let deadline = self.activity.head_deadline();
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for HeadSleep {}

impl hyper::rt::Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(std::time::Instant::now() + duration)
    }

    fn sleep_until(&self, _hyper_deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        // HTTP/1 servers use the timer only for the header read, which starts now.
        self.0.waiting_for_head();
        let deadline = self.0.head_deadline();
        Box::pin(HeadSleep { activity: self.0.clone(), sleep: Box::pin(tokio::time::sleep_until(deadline)) })
    }
}

/// The socket, noting when bytes arrive (the start of a request, for the header timeout).
struct WatchedStream {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for WatchedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let result = ready!(Pin::new(&mut self.inner).poll_read(cx, buf));
        if result.is_ok() && buf.filled().len() > before {
            self.activity.bytes_read();
        }
        Poll::Ready(result)
    }
}

impl AsyncWrite for WatchedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
struct BodyTimedOut;

/// A request body that fails once its deadline passes with frames still missing.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
}

impl hyper::body::Body for DeadlineBody {
    type Data = hyper::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The router for one connection: its peer address (as `ConnectInfo`, which the guard reads)
/// and its body deadline.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    remote: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<hyper::Request<Incoming>> for ConnectionService {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = <Router as tower_service::Service<axum::extract::Request>>::Future;

    fn call(&self, req: hyper::Request<Incoming>) -> Self::Future {
        self.activity.request_received();
        let deadline = Box::pin(tokio::time::sleep(self.activity.limits.body_timeout));
        let mut req = req.map(|inner| Body::new(DeadlineBody { inner, deadline }));
        req.extensions_mut().insert(ConnectInfo(self.remote));
        tower_service::Service::call(&mut self.router.clone(), req)
    }
}

/// Counts connections and lets [`serve`] wait for the last one to close.
#[derive(Clone)]
pub struct ConnectionSlots {
    semaphore: Arc<Semaphore>,
    max: usize,
    /// The accept loop holds a slot while it waits to accept, so this counts what is served.
    open: Arc<AtomicUsize>,
}

/// A served connection's slot, given back when the connection ends.
struct Slot {
    _permit: OwnedSemaphorePermit,
    open: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl ConnectionSlots {
    pub(crate) fn new(max: usize) -> Self {
        // Far above any real cap, and small enough to acquire all slots at once at shutdown.
        let max = max.clamp(1, 1 << 24);
        Self { semaphore: Arc::new(Semaphore::new(max)), max, open: Arc::new(AtomicUsize::new(0)) }
    }

    /// Connections being served now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    fn occupy(&self, permit: OwnedSemaphorePermit) -> Slot {
        self.open.fetch_add(1, Ordering::Relaxed);
        Slot { _permit: permit, open: self.open.clone() }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting, lets every
/// connection finish its in-flight request (idle ones close at once) and returns.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    slots: ConnectionSlots,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (closing_tx, closing_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.semaphore.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = slots.occupy(permit);
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new(limits));
        let service = ConnectionService { router: router.clone(), remote, activity: activity.clone() };
        let io = TokioIo::new(WatchedStream { inner: stream, activity: activity.clone() });
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let conn = http1::Builder::new()
                .timer(HeadTimer(activity))
                // The value is not used: `HeadTimer` computes the deadline. Setting it turns
                // hyper's header timer on.
                .header_read_timeout(limits.header_timeout)
                .serve_connection(io, service);
            tokio::pin!(conn);
            let mut asked_to_close = false;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!(error = %e, peer = %remote, "connection ended with an error");
                        }
                        break;
                    }
                    changed = closing.changed(), if !asked_to_close => {
                        asked_to_close = true;
                        if changed.is_ok() {
                            conn.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every connection holds a slot until it closes: having them all back means all are done.
    let all = u32::try_from(slots.max).unwrap_or(u32::MAX);
    let _ = slots.semaphore.acquire_many(all).await;
    Ok(())
}

/// As axum's `serve`: errors about one connection are skipped; others (too many open files)
/// are logged and retried after a second, rather than spinning or stopping the server.
async fn accept_error(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_begun_request_gets_the_header_timeout_and_a_quiet_connection_the_idle_one() {
        let limits = HttpLimits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            ..HttpLimits::default()
        };
        let activity = Activity::new(limits);
        let since = activity.lock().waiting_since;
        assert_eq!(activity.head_deadline(), since + limits.header_timeout, "a new connection owes its first request");
        activity.bytes_read();
        activity.request_received();
        activity.waiting_for_head();
        let since = activity.lock().waiting_since;
        assert_eq!(activity.head_deadline(), since + limits.idle_timeout, "between requests");
        activity.bytes_read();
        let first = activity.lock().first_byte.unwrap();
        assert_eq!(activity.head_deadline(), first + limits.header_timeout, "a request has begun");
    }
}
