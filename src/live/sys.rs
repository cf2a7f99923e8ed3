//! The few Linux calls pnet does not make: creating the packet socket (so that its descriptor is
//! ours to configure), socket options of `packet(7)`, and `recvmsg(2)` with the control message
//! that carries a frame's VLAN tag and status. Every `unsafe` block of osilab is here, each with
//! the reason it is sound.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Set by the SIGINT handler: the user pressed Ctrl-C.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    // Async-signal-safe: one atomic store.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catch the first Ctrl-C (SIGINT) so that a run can end as if its time were up (ping prints its
/// statistics, the chat server its report); a second one kills the process as usual
/// (`SA_RESETHAND`). Without `SA_RESTART`, a `poll(2)` in progress returns at once.
pub fn catch_interrupt() {
    // SAFETY: a zeroed sigaction with a handler that only stores to an atomic; sigaction(2) is
    // given valid pointers.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigint as *const () as usize;
        sa.sa_flags = libc::SA_RESETHAND;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
    }
}

/// Whether Ctrl-C was pressed since [`catch_interrupt`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// `packet(7)`'s packet types (`sll_pkttype`), from `<linux/if_packet.h>`.
pub const PACKET_OUTGOING: u8 = libc::PACKET_OUTGOING;

/// A frame as `recvmsg(2)` returned it.
#[derive(Debug, Clone, Default)]
pub struct RawFrame {
    /// The bytes read (with `PACKET_VNET_HDR`, the 10-byte `virtio_net_hdr` first).
    pub data: Vec<u8>,
    /// `sll_pkttype`: to us, broadcast, multicast, to another host, or sent by this host.
    pub pkttype: u8,
    /// The datagram was longer than the buffer (`MSG_TRUNC`).
    pub truncated: bool,
    /// `tpacket_auxdata.tp_status` (`TP_STATUS_*`), if the control message came.
    pub status: u32,
    /// `tp_len`: the frame's length before any cut.
    pub len: u32,
    /// `tp_vlan_tci`, when `TP_STATUS_VLAN_VALID` is set in `status`.
    pub vlan_tci: u16,
    /// `tp_vlan_tpid`, when `TP_STATUS_VLAN_TPID_VALID` is set in `status`.
    pub vlan_tpid: u16,
}

/// An `AF_PACKET` raw socket that receives nothing until it is bound (protocol 0: bind chooses
/// `ETH_P_ALL` and the interface, so no frame of another interface is queued before that).
pub fn packet_socket() -> io::Result<RawFd> {
    // SAFETY: socket(2) takes plain integers and returns a new descriptor or -1.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(fd)
    }
}

/// Close a descriptor we created and did not hand to pnet.
pub fn close(fd: RawFd) {
    // SAFETY: `fd` is a descriptor this module opened and nothing else holds.
    unsafe {
        libc::close(fd);
    }
}

/// `setsockopt(fd, SOL_PACKET, name, &value, sizeof(int))`.
pub fn set_packet_option(fd: RawFd, name: libc::c_int, value: libc::c_int) -> io::Result<()> {
    // SAFETY: the option value points at a live c_int of the length given.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Wait up to `timeout` for `fd` to be readable. Ok(false) when the time ran out.
pub fn wait_readable(fd: RawFd, timeout: Duration) -> io::Result<bool> {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // Whole milliseconds, rounded up so that a short wait is not a busy loop.
    let ms = timeout.as_nanos().div_ceil(1_000_000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one pollfd, alive for the call.
    let r = unsafe { libc::poll(&mut pfd, 1, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    if r > 0 && pfd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 && pfd.revents & libc::POLLIN == 0 {
        return Err(io::Error::other("the packet socket reported an error (is the interface gone?)"));
    }
    Ok(r > 0 && pfd.revents & libc::POLLIN != 0)
}

/// Read one frame with `recvmsg(2)` into `buf` (non-blocking socket: `Ok(None)` when nothing
/// waits), with its `sockaddr_ll` and `PACKET_AUXDATA` control message.
pub fn receive(fd: RawFd, buf: &mut [u8]) -> io::Result<Option<RawFrame>> {
    // SAFETY: all-zero is a valid sockaddr_ll and msghdr.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    // Room for one cmsghdr with a tpacket_auxdata, 8-byte aligned.
    let mut control = [0u64; 16];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: as above, all-zero is a valid msghdr (no name, no buffers, no control).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = (&mut addr as *mut libc::sockaddr_ll).cast();
    msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = std::mem::size_of_val(&control) as _;
    // SAFETY: msg points at the live buffers above, of the lengths given. MSG_TRUNC makes the
    // result the datagram's real length even when the buffer is shorter.
    let n = unsafe { libc::recvmsg(fd, &mut msg, libc::MSG_TRUNC) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
            _ => Err(e),
        };
    }
    let n = n as usize;
    let mut f = RawFrame {
        data: buf[..n.min(buf.len())].to_vec(),
        pkttype: addr.sll_pkttype,
        truncated: n > buf.len() || msg.msg_flags & libc::MSG_TRUNC != 0,
        ..Default::default()
    };
    // SAFETY: the CMSG_* helpers walk the control buffer the kernel filled, within
    // msg_controllen; the data of a PACKET_AUXDATA message is a tpacket_auxdata, read unaligned.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == libc::PACKET_AUXDATA {
                let len = (*c).cmsg_len as usize;
                if len >= libc::CMSG_LEN(std::mem::size_of::<libc::tpacket_auxdata>() as u32) as usize {
                    let aux: libc::tpacket_auxdata = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    f.status = aux.tp_status;
                    f.len = aux.tp_len;
                    f.vlan_tci = aux.tp_vlan_tci;
                    f.vlan_tpid = aux.tp_vlan_tpid;
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok(Some(f))
}

/// The interface's MTU, from sysfs (1500 when it cannot be read).
pub fn mtu(name: &str) -> usize {
    std::fs::read_to_string(format!("/sys/class/net/{name}/mtu"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1500)
}
