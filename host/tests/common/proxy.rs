//! A TCP proxy for fault injection: it stands between the host and a
//! dependency (PostgreSQL, Redis, the providers) and can delay every chunk,
//! refuse new connections, and cut the ones open, mid-request.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct State {
    down: AtomicBool,
    latency_ms: AtomicU64,
    stopped: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
}

pub struct Proxy {
    pub port: u16,
    state: Arc<State>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let shared = state.clone();
        std::thread::spawn(move || accept(&listener, upstream, &shared));
        Proxy { port, state }
    }

    /// New connections are refused (accepted and closed) while down.
    fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Every chunk, each way, waits this long.
    pub fn set_latency(&self, latency: Duration) {
        self.state.latency_ms.store(u64::try_from(latency.as_millis()).unwrap(), Ordering::SeqCst);
    }

    /// The dependency gone for `length`: open connections cut, new ones
    /// refused, then let through again.
    pub fn outage(&self, length: Duration) {
        self.set_down(true);
        self.cut();
        std::thread::sleep(length);
        self.set_down(false);
    }

    /// Cuts every open connection, whatever it is in the middle of.
    pub fn cut(&self) {
        for stream in self.state.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stopped.store(true, Ordering::SeqCst);
        self.cut();
    }
}

fn accept(listener: &TcpListener, upstream: SocketAddr, state: &Arc<State>) {
    while !state.stopped.load(Ordering::SeqCst) {
        let client = match listener.accept() {
            Ok((client, _)) => client,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let _ = client.set_nonblocking(false);
        if state.down.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(upstream) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = (client.set_nodelay(true), server.set_nodelay(true));
        if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
            state.open.lock().unwrap().extend([c, s]);
        }
        for (from, to) in [(client.try_clone(), server.try_clone()), (server.try_clone(), client.try_clone())] {
            let (Ok(from), Ok(to)) = (from, to) else { continue };
            let state = state.clone();
            std::thread::spawn(move || pump(from, to, &state));
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, state: &State) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let latency = state.latency_ms.load(Ordering::SeqCst);
        if latency > 0 {
            std::thread::sleep(Duration::from_millis(latency));
        }
        if to.write_all(&buffer[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
