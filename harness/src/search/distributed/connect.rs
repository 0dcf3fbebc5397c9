//! The processes of a run connect to each other before any worker starts: each listens at
//! its own address and connects to every process before it, telling it its index, as timely's
//! own cluster setup does. Timely's setup sleeps a whole second whenever a peer is not there
//! yet, on both sides, which a run of two processes on loopback always hit (a second of its
//! twelve); here both sides try again after a few milliseconds, and give up after
//! `--peer-timeout`, naming the process that never answered.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};
use timely::communication::allocator::zero_copy::initialize::{
    initialize_networking_from_sockets, CommsGuard,
};
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::Hooks;

/// How long a side waits before it tries again.
const RETRY: Duration = Duration::from_millis(5);

/// Timely's allocators for this process's `threads` workers, over sockets to every other
/// process (`addresses[i]` is process `i`'s `host:port`), and the guard that keeps the
/// communication threads alive.
pub fn allocators(
    addresses: &[String],
    me: usize,
    threads: usize,
    patience: Duration,
) -> Result<(Vec<AllocatorBuilder>, CommsGuard), String> {
    let sockets = sockets(addresses, me, patience)?;
    let hooks = Hooks::default();
    let process = ProcessBuilder::new_typed_vector(threads, hooks.refill.clone(), None);
    let (builders, guard) =
        initialize_networking_from_sockets(process, sockets, me, threads, hooks)
            .map_err(|e| format!("cannot start timely's communication: {e}"))?;
    Ok((
        builders.into_iter().map(AllocatorBuilder::Tcp).collect(),
        guard,
    ))
}

/// A socket to every other process (`None` at `me`): connected to each earlier one, accepted
/// from each later one.
pub fn sockets(
    addresses: &[String],
    me: usize,
    patience: Duration,
) -> Result<Vec<Option<TcpStream>>, String> {
    let deadline = Instant::now() + patience;
    let later = addresses.len() - me - 1;
    // Bound before connecting, so a later process that connects early waits in the backlog.
    let listeners = if later > 0 {
        addresses[me]
            .split_whitespace()
            .map(|a| {
                let l = TcpListener::bind(a)
                    .map_err(|e| format!("process {me} cannot listen at {a}: {e}"))?;
                l.set_nonblocking(true)
                    .map_err(|e| format!("process {me} cannot listen at {a}: {e}"))?;
                Ok(l)
            })
            .collect::<Result<Vec<_>, String>>()?
    } else {
        Vec::new()
    };
    let mut sockets: Vec<Option<TcpStream>> = Vec::with_capacity(addresses.len());
    for (i, address) in addresses.iter().enumerate().take(me) {
        sockets.push(Some(connect(address, i, me, deadline, patience)?));
    }
    sockets.push(None);
    let mut accepted: Vec<Option<TcpStream>> = (0..later).map(|_| None).collect();
    while accepted.iter().any(Option::is_none) {
        let mut any = false;
        for l in &listeners {
            match l.accept() {
                Ok((mut stream, from)) => {
                    any = true;
                    let i = read_index(&mut stream)
                        .map_err(|e| format!("process {me}: a connection from {from}: {e}"))?;
                    let slot = i
                        .checked_sub(me + 1)
                        .and_then(|k| accepted.get_mut(k))
                        .filter(|s| s.is_none())
                        .ok_or_else(|| {
                            format!(
                                "process {me}: {from} says it is process {i}, which is not a later process of this run still to connect"
                            )
                        })?;
                    *slot = Some(ready(stream).map_err(|e| format!("process {me}: {e}"))?);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(format!("process {me} cannot accept a connection: {e}")),
            }
        }
        if any {
            continue;
        }
        if Instant::now() >= deadline {
            let missing: Vec<String> = (accepted.iter().enumerate())
                .filter(|(_, s)| s.is_none())
                .map(|(k, _)| (me + 1 + k).to_string())
                .collect();
            return Err(format!(
                "process {me}: no connection from process {} in {} s (--peer-timeout)",
                missing.join(", "),
                patience.as_secs()
            ));
        }
        std::thread::sleep(RETRY);
    }
    sockets.extend(accepted);
    Ok(sockets)
}

/// Connects to process `i` at `address`, trying again until `deadline`, and says who we are.
fn connect(
    address: &str,
    i: usize,
    me: usize,
    deadline: Instant,
    patience: Duration,
) -> Result<TcpStream, String> {
    loop {
        match TcpStream::connect(address) {
            Ok(mut stream) => {
                // Timely's handshake: the connecting process's index, 8 bytes big-endian.
                stream
                    .write_all(&(me as u64).to_be_bytes())
                    .map_err(|e| format!("process {me} cannot greet process {i} at {address}: {e}"))?;
                return ready(stream).map_err(|e| format!("process {me}: {e}"));
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(format!(
                    "process {me} cannot connect to process {i} at {address} in {} s (--peer-timeout): {e}",
                    patience.as_secs()
                ))
            }
            Err(_) => std::thread::sleep(RETRY),
        }
    }
}

fn read_index(stream: &mut TcpStream) -> std::io::Result<usize> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut bytes = [0u8; 8];
    stream.read_exact(&mut bytes)?;
    Ok(u64::from_be_bytes(bytes) as usize)
}

/// A connected stream as timely's communication threads expect it: blocking, no timeouts,
/// no delay for small writes.
fn ready(stream: TcpStream) -> std::io::Result<TcpStream> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(None)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_processes_connect_in_any_order() {
        let base = 23_400 + (std::process::id() % 500) as u16 * 3;
        let addresses: Vec<String> = (0..3).map(|i| format!("127.0.0.1:{}", base + i)).collect();
        let handles: Vec<_> = [2usize, 0, 1]
            .into_iter()
            .map(|me| {
                let addresses = addresses.clone();
                std::thread::spawn(move || sockets(&addresses, me, Duration::from_secs(20)))
            })
            .collect();
        for h in handles {
            let s = h
                .join()
                .unwrap_or_else(|_| panic!("a process panicked"))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.len(), 3);
            assert_eq!(s.iter().filter(|s| s.is_none()).count(), 1);
        }
    }

    #[test]
    fn a_missing_process_is_named_after_the_patience() {
        let base = 24_900 + (std::process::id() % 500) as u16 * 2;
        let addresses: Vec<String> = (0..2).map(|i| format!("127.0.0.1:{}", base + i)).collect();
        let e = sockets(&addresses, 0, Duration::from_millis(50)).err();
        assert!(
            e.as_deref()
                .is_some_and(|e| e.contains("no connection from process 1")),
            "{e:?}"
        );
    }
}
