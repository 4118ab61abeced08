//! SIP over TCP: per-flow stream reassembly, so a message cut across segments is read whole.
//!
//! A flow is one direction of a TCP connection (source and destination address and port).
//! Its segments are put in sequence order: a retransmitted segment, or the part of one that
//! overlaps bytes already taken, is ignored (the first copy wins, as the receiver's stack
//! does); a segment ahead of the next expected byte waits (within [`TcpStreams::WINDOW`])
//! until the gap before it fills. Sequence numbers wrap: positions are kept as 64-bit stream
//! offsets and a segment is placed by its signed 32-bit distance from the next expected byte.
//!
//! Complete messages (framed by Content-Length, [`split_stream`]) are handed on as soon as
//! their last byte is in order. A SYN (re)starts a flow; a FIN or RST ends it. A flow first
//! seen in the middle (the capture began after the SYN) starts at the first segment that
//! begins with a SIP start line; bytes before that are skipped and counted.
//!
//! Everything is bounded: at most [`TcpStreams::MAX_FLOWS`] flows (the least recently used
//! is evicted), at most [`TcpStreams::MAX_BUFFERED`] bytes held per flow (in order and out of
//! order together; a segment that would go over is dropped when out of order, and when in
//! order the message it belongs to is reported as malformed and the flow waits for the next
//! start line), and a flow idle for [`TcpStreams::IDLE`] is forgotten. Each byte
//! is copied into a flow's buffer once and framed once per segment that adds to it, and the
//! framing only rescans when a segment arrives, so the work is linear in the bytes for
//! messages of bounded size.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use crate::sip::{looks_like_sip, split_stream, Message, ParseError};
use crate::time::Timestamp;

/// The TCP header fields the reassembler needs from one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpSegment {
    /// Sequence number of the segment's first byte (of the SYN itself when `syn`).
    pub seq: u32,
    /// SYN: the flow (re)starts.
    pub syn: bool,
    /// FIN: the sender has no more data.
    pub fin: bool,
    /// RST: the connection is gone.
    pub rst: bool,
}

/// One direction of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// Sender address and port.
    pub src: SocketAddr,
    /// Receiver address and port.
    pub dst: SocketAddr,
}

/// Counters of the reassembler.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpStreamStats {
    /// SIP messages whose bytes came in more than one segment.
    pub reassembled: u64,
    /// Flows evicted to make room for a new one.
    pub flows_evicted: u64,
    /// Payload bytes never handed on: before a SIP start line, beyond the window, over the
    /// per-flow cap, or left incomplete when a flow ended, expired or was evicted.
    pub bytes_dropped: u64,
    /// Payload bytes that repeated bytes already received (retransmissions, overlaps).
    pub bytes_repeated: u64,
    /// Flows that ended (FIN, RST, a new SYN, idle, evicted) with part of a message unread.
    pub incomplete: u64,
}

/// What one segment produced.
#[derive(Debug, Default)]
pub struct Delivered {
    /// The messages completed by this segment, in stream order; `Err` for a malformed one
    /// (or one over the per-flow cap).
    pub messages: Vec<Result<Message, ParseError>>,
    /// The segment's bytes were skipped: its flow has not shown a SIP start line yet.
    pub skipped: bool,
}

/// The per-flow state.
#[derive(Debug)]
struct Flow {
    /// Stream offset of the next byte expected in order (`None`: waiting for a start line).
    next: Option<u64>,
    /// Sequence number of stream offset 0.
    base: u32,
    /// In-order bytes not yet framed into a message.
    buffer: Vec<u8>,
    /// How many segments put bytes into `buffer` since it was last empty.
    pieces: u32,
    /// Out-of-order segments by stream offset.
    ahead: BTreeMap<u64, Vec<u8>>,
    /// Bytes in `ahead`.
    ahead_bytes: usize,
    last_seen: Timestamp,
}

impl Flow {
    fn new(now: Timestamp) -> Flow {
        Flow {
            next: None,
            base: 0,
            buffer: Vec::new(),
            pieces: 0,
            ahead: BTreeMap::new(),
            ahead_bytes: 0,
            last_seen: now,
        }
    }

    /// Starts the stream so that sequence number `seq` is the next byte expected.
    fn start_at(&mut self, seq: u32) {
        self.base = seq;
        self.next = Some(0);
    }

    /// The sequence number of the next byte expected in order, once the stream started.
    fn next_seq(&self) -> Option<u32> {
        self.next.map(|next| self.base.wrapping_add(next as u32))
    }

    /// Bytes held that were never handed on.
    fn held(&self) -> usize {
        self.buffer.len() + self.ahead_bytes
    }

    /// Forgets everything held; returns how many bytes that was.
    fn clear(&mut self) -> usize {
        let held = self.held();
        self.buffer.clear();
        self.pieces = 0;
        self.ahead.clear();
        self.ahead_bytes = 0;
        held
    }

    /// The stream offset of sequence number `seq`, placed by its signed distance from the
    /// next expected byte (so it is right across wrap-around).
    fn offset_of(&self, next: u64, seq: u32) -> i128 {
        let next_seq = self.base.wrapping_add(next as u32);
        i128::from(next) + i128::from(seq.wrapping_sub(next_seq).cast_signed())
    }
}

/// Reassembles SIP over TCP for every flow; see the module documentation.
#[derive(Debug, Default)]
pub struct TcpStreams {
    flows: HashMap<FlowKey, Flow>,
    stats: TcpStreamStats,
}

impl TcpStreams {
    /// At most this many flows are followed at once.
    pub const MAX_FLOWS: usize = 512;
    /// At most this many bytes are held per flow: a SIP message larger than that is refused.
    pub const MAX_BUFFERED: usize = 64 * 1024;
    /// A segment further ahead of the next expected byte than this is dropped.
    pub const WINDOW: u64 = Self::MAX_BUFFERED as u64;
    /// A flow that saw no segment for this long is forgotten.
    pub const IDLE: Duration = Duration::from_mins(5);

    /// Takes one segment of flow `key` and returns the messages it completed.
    pub fn handle_segment(
        &mut self,
        now: Timestamp,
        key: FlowKey,
        segment: TcpSegment,
        data: &[u8],
    ) -> Delivered {
        let mut out = Delivered::default();
        if segment.rst {
            self.end_flow(key);
            return out;
        }
        if segment.syn {
            self.end_flow(key);
        }
        if !self.flows.contains_key(&key) {
            if !segment.syn && data.is_empty() {
                return out;
            }
            self.make_room(key);
        }
        let flow = self.flows.entry(key).or_insert_with(|| Flow::new(now));
        flow.last_seen = now;
        let mut seq = segment.seq;
        if segment.syn {
            seq = seq.wrapping_add(1);
            flow.start_at(seq);
        }
        take_data(&mut self.stats, flow, seq, data, &mut out);
        // A FIN ends the flow once every byte before it is in; one that overtook data
        // still missing leaves the flow to wait for it (or to expire).
        let fin_in_order = flow.next_seq() == Some(seq.wrapping_add(data.len() as u32));
        if segment.fin && fin_in_order {
            self.end_flow(key);
        }
        out
    }

    /// Ends every flow (the end of a replay), counting what they held unread.
    pub fn finish(&mut self) {
        for (_, flow) in self.flows.drain() {
            count_unread(&mut self.stats, &flow);
        }
    }

    /// Forgets flows idle for [`TcpStreams::IDLE`].
    pub fn expire(&mut self, now: Timestamp) {
        let stats = &mut self.stats;
        self.flows.retain(|_, flow| {
            let keep = now.since(flow.last_seen) < Self::IDLE;
            if !keep {
                count_unread(stats, flow);
            }
            keep
        });
    }

    /// When the next flow becomes idle, if any flow is followed.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let oldest = self.flows.values().map(|flow| flow.last_seen).min()?;
        Some(oldest.plus(Self::IDLE))
    }

    /// The counters so far.
    #[must_use]
    pub fn stats(&self) -> TcpStreamStats {
        self.stats
    }

    /// Bytes held in all flows, in order and out of order, not yet handed on.
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        self.flows.values().map(Flow::held).sum()
    }

    /// How many flows are followed now.
    #[must_use]
    pub fn flows(&self) -> usize {
        self.flows.len()
    }

    /// Ends the flow `key`, counting what it held unread.
    fn end_flow(&mut self, key: FlowKey) {
        if let Some(flow) = self.flows.remove(&key) {
            count_unread(&mut self.stats, &flow);
        }
    }

    /// Evicts the least recently used flow when the table is full.
    fn make_room(&mut self, key: FlowKey) {
        if self.flows.len() < Self::MAX_FLOWS || self.flows.contains_key(&key) {
            return;
        }
        let oldest = self
            .flows
            .iter()
            .min_by_key(|(_, flow)| flow.last_seen)
            .map(|(&key, _)| key);
        if let Some(flow) = oldest.and_then(|oldest| self.flows.remove(&oldest)) {
            self.stats.flows_evicted += 1;
            count_unread(&mut self.stats, &flow);
        }
    }
}

/// Places `data` (first byte at sequence number `seq`) in the flow and frames what is in
/// order.
fn take_data(
    stats: &mut TcpStreamStats,
    flow: &mut Flow,
    seq: u32,
    data: &[u8],
    out: &mut Delivered,
) {
    if data.is_empty() {
        return;
    }
    let next = match flow.next {
        Some(next) => next,
        None if looks_like_sip(data) => {
            flow.start_at(seq);
            0
        }
        None => {
            stats.bytes_dropped += data.len() as u64;
            out.skipped = true;
            return;
        }
    };
    let offset = flow.offset_of(next, seq);
    let end = offset + data.len() as i128;
    if end <= i128::from(next) {
        stats.bytes_repeated += data.len() as u64;
        return;
    }
    if offset > i128::from(next) {
        hold_ahead(stats, flow, offset as u64, data);
        return;
    }
    let skip = (i128::from(next) - offset) as usize;
    stats.bytes_repeated += skip as u64;
    let fresh = &data[skip..];
    if flow.held() + fresh.len() > TcpStreams::MAX_BUFFERED {
        stats.bytes_dropped += (flow.clear() + fresh.len()) as u64;
        flow.next = None;
        out.messages.push(Err(ParseError::Invalid(
            "SIP message over the TCP buffer cap",
        )));
        return;
    }
    append(flow, next, fresh);
    drain_ahead(stats, flow);
    frame(stats, flow, out);
}

/// Counts the bytes `flow` held unread.
fn count_unread(stats: &mut TcpStreamStats, flow: &Flow) {
    let held = flow.held();
    stats.bytes_dropped += held as u64;
    if held > 0 {
        stats.incomplete += 1;
    }
}

/// Appends in-order bytes that start at stream offset `next`.
fn append(flow: &mut Flow, next: u64, bytes: &[u8]) {
    flow.buffer.extend_from_slice(bytes);
    flow.pieces += 1;
    flow.next = Some(next + bytes.len() as u64);
}

/// Keeps an out-of-order segment at stream offset `offset`, within the window and the cap.
fn hold_ahead(stats: &mut TcpStreamStats, flow: &mut Flow, offset: u64, data: &[u8]) {
    let next = flow.next.unwrap_or(0);
    let within_window = offset + data.len() as u64 <= next + TcpStreams::WINDOW;
    let fits = flow.held() + data.len() <= TcpStreams::MAX_BUFFERED;
    let longer_copy = flow.ahead.get(&offset).map_or(0, Vec::len);
    if !within_window || !fits {
        stats.bytes_dropped += data.len() as u64;
        return;
    }
    if longer_copy >= data.len() {
        stats.bytes_repeated += data.len() as u64;
        return;
    }
    flow.ahead_bytes = flow.ahead_bytes - longer_copy + data.len();
    flow.ahead.insert(offset, data.to_vec());
}

/// Moves the out-of-order segments that now touch the in-order end into the buffer.
fn drain_ahead(stats: &mut TcpStreamStats, flow: &mut Flow) {
    while let Some(entry) = flow.ahead.first_entry() {
        let next = flow.next.unwrap_or(0);
        let offset = *entry.key();
        if offset > next {
            return;
        }
        let data = entry.remove();
        flow.ahead_bytes -= data.len();
        let skip = (next - offset) as usize;
        if skip >= data.len() {
            stats.bytes_repeated += data.len() as u64;
            continue;
        }
        stats.bytes_repeated += skip as u64;
        append(flow, next, &data[skip..]);
    }
}

/// Hands on the complete messages in the buffer.
fn frame(stats: &mut TcpStreamStats, flow: &mut Flow, out: &mut Delivered) {
    // Out of the flow while it is parsed: should the parser panic on these bytes (the agent
    // survives a panic, see `Engine::settle_frame`), the next segment does not meet them again.
    let mut buffer = std::mem::take(&mut flow.buffer);
    let (messages, consumed) = split_stream(&buffer);
    if !messages.is_empty() && flow.pieces > 1 {
        stats.reassembled += 1;
    }
    out.messages.extend(messages);
    buffer.drain(..consumed);
    flow.pieces = u32::from(!buffer.is_empty());
    flow.buffer = buffer;
}

#[cfg(test)]
mod tests;
