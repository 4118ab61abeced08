//! The queue thread's scheduling policy: real-time while calls are in progress, normal
//! otherwise (see [`QueuePriority`] for why).

/// The queue thread's scheduling. While calls are in progress it runs at a real-time
/// priority (`SCHED_FIFO` 10), ahead of the recorder, the console and everything else on the
/// box, so that a call's audio never waits for a CPU behind a disk write (without it the p99
/// latency at 100 calls was 1.7 ms instead of 0.8). With no call in progress it runs at the
/// normal priority: a flood of other traffic then leaves the CPU to the kernel's own
/// forwarding, which a real-time thread woken for every packet took from it (on two cores,
/// 18-77% of the packets a trivial consumer let through reached the phone). The switch is
/// made by the queue thread after each packet: when the last call ends on a timer rather
/// than a packet, the thread turns normal at the next packet it takes.
#[derive(Debug, Default)]
pub(super) struct QueuePriority {
    realtime: bool,
}

impl QueuePriority {
    /// Switches the calling thread (the queue's) when calls start or have all ended.
    pub(super) fn follow(&mut self, calls_in_progress: bool) {
        use thread_priority::{
            set_thread_priority_and_policy, thread_native_id, NormalThreadSchedulePolicy,
            RealtimeThreadSchedulePolicy, ScheduleParams, ThreadPriority, ThreadSchedulePolicy,
        };
        if calls_in_progress == self.realtime {
            return;
        }
        let (policy, priority) = if calls_in_progress {
            (
                ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo),
                10,
            )
        } else {
            (
                ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other),
                0,
            )
        };
        let priority = ThreadPriority::from_posix(ScheduleParams {
            sched_priority: priority,
        });
        if let Err(error) = set_thread_priority_and_policy(thread_native_id(), priority, policy) {
            tracing::warn!("the queue thread keeps its priority ({policy:?} refused): {error:?}");
        }
        // Tried once per change, not again for every packet.
        self.realtime = calls_in_progress;
    }
}

#[cfg(test)]
mod tests {
    use thread_priority::{thread_schedule_policy, RealtimeThreadSchedulePolicy};
    use thread_priority::{NormalThreadSchedulePolicy, ThreadSchedulePolicy};

    use super::QueuePriority;

    /// Needs root (or `CAP_SYS_NICE`), like the lab tests: the real-time policy is refused
    /// to an ordinary user.
    #[test]
    fn the_queue_thread_is_real_time_only_while_calls_are_in_progress() {
        std::thread::spawn(|| {
            let policy = || thread_schedule_policy().expect("policy");
            let normal = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Other);
            let fifo = ThreadSchedulePolicy::Realtime(RealtimeThreadSchedulePolicy::Fifo);
            let mut priority = QueuePriority::default();
            priority.follow(false);
            assert_eq!(policy(), normal, "no call: the normal priority");
            priority.follow(true);
            assert_eq!(policy(), fifo, "a call started");
            priority.follow(true);
            assert_eq!(policy(), fifo);
            priority.follow(false);
            assert_eq!(policy(), normal, "the last call ended");
        })
        .join()
        .expect("the thread's assertions");
    }
}
