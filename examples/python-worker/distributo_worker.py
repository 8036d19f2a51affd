"""A Distributo worker in Python, on grpcio and the stubs protoc makes from proto/.

    worker = Worker("127.0.0.1:4000", process=lambda payload: {...}, concurrency=4)
    sys.exit(worker.run())

`process` gets each task's JSON payload (a dict, list, str, number...) and returns the
JSON result; raising fails the attempt (ValueError: for good, anything else: retried).
The protocol is docs/protocol.md: a RequestBatch stream (hello, credit; tasks in) and a
SubmitResults stream (outcomes and lease extensions out; acks in). The worker grants a
window of credit, extends the leases of every task it holds every lease/3, keeps each
outcome until its ack, reconnects with backoff (resuming its session, resubmitting what
was not acked), drops what it holds if the master now serves another job, and returns 0
once the master says the job is complete and every outcome is acked.
"""

import collections
import logging
import os
import queue
import random
import socket
import threading
import time

import grpc
from google.protobuf import json_format, struct_pb2

from distributo.v1 import distributor_pb2 as pb
from distributo.v1 import distributor_pb2_grpc as rpc
from distributo.v1 import task_pb2

JSON_TYPE = "type.googleapis.com/google.protobuf.Value"
FATAL = {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNAUTHENTICATED,
         grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNIMPLEMENTED}
MAX_OUTCOMES_PER_BATCH = 100
DEFAULT_MAX_MESSAGE_BYTES = 4 << 20
log = logging.getLogger("distributo_worker")


def _key(lease):
    return (lease.task_id, lease.epoch)


class _Results:
    """One SubmitResults stream: a sender thread batches outcomes and extensions, a
    reader thread takes the acks. Everything shared lives in the Worker, under its lock."""

    def __init__(self, worker, stub, on_broken):
        self._worker = worker
        self._on_broken = on_broken
        self._closing = False
        self._requests = queue.Queue()
        self._call = stub.SubmitResults(iter(self._requests.get, None))
        self.ended = threading.Event()
        self._reader = threading.Thread(target=self._read_acks, daemon=True)
        self._reader.start()

    def send(self, batch):
        self._requests.put(batch)

    def close(self):
        """Half-closes the stream (WritesDone) and waits for the master to end it."""
        self._closing = True
        self._requests.put(None)
        self._reader.join(timeout=10)
        if self._reader.is_alive():
            self._call.cancel()

    def cancel(self):
        self._call.cancel()

    def _read_acks(self):
        try:
            for ack in self._call:
                self._worker._on_ack(ack)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                log.warning("results stream ended: %s", error.details())
        finally:
            self.ended.set()
            self._worker._wake()
            if not self._closing:
                self._on_broken()  # The session cannot go on without acks.


class Worker:
    def __init__(self, target, process, concurrency=1, name=None, prefetch=None):
        self._target = target
        self._process = process
        self._concurrency = concurrency
        self._prefetch = prefetch
        self._name = name or f"{socket.gethostname()}/{os.getpid()}/py"
        self._lock = threading.Condition()
        self._work = queue.Queue()
        self._held = {}          # (task_id, epoch) -> Task, queued or running
        self._pending = []       # outcomes not yet sent
        self._unacked = collections.OrderedDict()  # batch_id -> outcomes
        self._next_batch = 1
        self._session_id = ""
        self._job_id = ""
        self._complete = False
        self._requests = None    # the RequestBatch request queue of this session
        self._max_batch_bytes = DEFAULT_MAX_MESSAGE_BYTES // 2
        self._max_result_bytes = 0  # 0: no limit
        self.accepted = self.refused = 0

    def run(self):
        for _ in range(self._concurrency):
            threading.Thread(target=self._slot, daemon=True).start()
        channel = grpc.insecure_channel(self._target)
        stub = rpc.DistributorStub(channel)
        delay = 1.0
        while True:
            try:
                if self._session(stub):
                    log.info("job complete: %d outcomes accepted, %d refused",
                             self.accepted, self.refused)
                    return 0
                delay = 1.0
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND and self._session_id:
                    log.warning("master forgot session %s; starting a new one",
                                self._session_id)
                    self._session_id = ""
                    continue
                if error.code() in FATAL:
                    log.error("master refused us: %s", error.details())
                    return 1
                log.warning("master %s: %s; retrying in %.1fs", self._target,
                            error.details(), delay)
            time.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 1.6, 30.0)

    # The session: RequestBatch on this thread, SubmitResults on two more.

    def _session(self, stub):
        requests = queue.Queue()
        requests.put(pb.BatchRequest(hello=pb.WorkerHello(
            worker_name=self._name, slots=self._concurrency,
            accepted_types=[JSON_TYPE], sdk_version="distributo-python/0.1",
            resume_session_id=self._session_id)))
        call = stub.RequestBatch(iter(requests.get, None))
        try:
            return self._serve(stub, call, requests)
        finally:
            requests.put(None)
            call.cancel()

    def _serve(self, stub, call, requests):
        first = next(call, None)
        if first is None:
            return False
        if first.WhichOneof("kind") != "session":
            raise RuntimeError("the master's first message is not a SessionStart")
        start = first.session
        self._start_session(start, requests)
        results = _Results(self, stub, on_broken=call.cancel)
        sender = threading.Thread(target=self._send_loop, args=(results, start),
                                  daemon=True)
        sender.start()
        try:
            for message in call:
                if results.ended.is_set():
                    break
                self._handle(message)
                if self._complete:
                    break
            if not self._complete:
                return False
            self._await_all_acked(results)
            results.close()
            return True
        finally:
            with self._lock:
                self._requests = None
                self._lock.notify_all()
            sender.join()
            results.cancel()

    def _start_session(self, start, requests):
        with self._lock:
            if self._job_id and start.job_id and start.job_id != self._job_id:
                log.warning("master serves job %s, not %s: dropping %d tasks and %d "
                            "outcomes of the old job", start.job_id, self._job_id,
                            len(self._held), len(self._pending))
                self._held.clear()
                self._pending.clear()
                self._unacked.clear()
            self._job_id = start.job_id or self._job_id
            self._session_id = start.session_id
            # Unacked outcomes go out again on the new results stream, first.
            resent = [o for batch in self._unacked.values() for o in batch]
            self._pending[:0] = resent
            self._unacked.clear()
            self._requests = requests
            # Half the master's limit leaves room for extensions and framing.
            self._max_batch_bytes = (start.max_message_bytes
                                     or DEFAULT_MAX_MESSAGE_BYTES) // 2
            self._max_result_bytes = start.max_result_bytes
            window = self._prefetch or max(2 * max(1, start.max_batch_tasks),
                                           self._concurrency)
            grant = window - len(self._held)
        log.info("%s session %s: lease %ss, window %d, resubmitting %d outcomes",
                 "resumed" if start.resumed else "started", start.session_id,
                 start.lease_duration.seconds, window, len(resent))
        if grant > 0:
            requests.put(pb.BatchRequest(credit=pb.CreditGrant(tasks=grant)))

    def _handle(self, message):
        kind = message.WhichOneof("kind")
        if kind == "tasks":
            with self._lock:
                for task in message.tasks.tasks:
                    key = (task.id, task.epoch)
                    if key not in self._held:
                        self._held[key] = task
                        self._work.put(task)
        elif kind == "cancel":
            with self._lock:
                dropped = sum(self._held.pop(_key(lease), None) is not None
                              for lease in message.cancel.leases)
                requests = self._requests
            # Their outcomes will not be sent: hand their credit back now.
            if dropped and requests is not None:
                requests.put(pb.BatchRequest(credit=pb.CreditGrant(tasks=dropped)))
        elif kind == "complete":
            log.info("the master says the job is complete (%d done, %d dead)",
                     message.complete.done, message.complete.dead)
            with self._lock:
                self._complete = True

    # Slots: run tasks, queue their outcomes, hand their credit back.

    def _slot(self):
        while True:
            task = self._work.get()
            with self._lock:
                if (task.id, task.epoch) not in self._held:
                    continue  # cancelled, or of a job dropped since
            outcome = self._run(task)
            with self._lock:
                if self._held.pop((task.id, task.epoch), None) is None:
                    continue
                self._pending.append(outcome)
                requests = self._requests
                self._lock.notify_all()
            if requests is not None:
                requests.put(pb.BatchRequest(credit=pb.CreditGrant(tasks=1)))

    def _run(self, task):
        outcome = pb.Outcome(lease=task_pb2.LeaseRef(task_id=task.id, epoch=task.epoch))
        try:
            value = struct_pb2.Value()
            if not task.payload.Unpack(value):
                raise ValueError(f"payload of type {task.payload.type_url}, not JSON")
            result = self._process(json_format.MessageToDict(value))
            outcome.result.Pack(json_format.ParseDict(result, struct_pb2.Value()))
            size = outcome.result.ByteSize()
            if self._max_result_bytes and size > self._max_result_bytes:
                # The master would refuse it: fail the attempt here instead.
                raise OverflowError(f"result of {size} bytes, the master takes at "
                                    f"most {self._max_result_bytes}")
        except Exception as error:  # Every failure becomes the task's, not ours.
            outcome.failure.code = type(error).__name__
            outcome.failure.message = str(error)
            outcome.failure.retryable = not isinstance(error, ValueError)
        return outcome

    # Sending and acks.

    def _send_loop(self, results, start):
        lease = start.lease_duration.seconds + start.lease_duration.nanos / 1e9
        every = max(lease, 1) / 3
        next_extension = time.monotonic() + every
        while not results.ended.is_set():
            with self._lock:
                self._lock.wait_for(
                    lambda: self._pending or self._requests is None
                    or time.monotonic() >= next_extension or results.ended.is_set(),
                    timeout=0.05)
                if self._requests is None:
                    return
                extend = time.monotonic() >= next_extension
                batch = self._next_batch_locked(extend)
            if extend:
                next_extension = time.monotonic() + every
            if batch is not None:
                results.send(batch)

    def _next_batch_locked(self, extend):
        # By count and by bytes, so that no batch exceeds the master's limit;
        # at least one outcome, which the result limit keeps small enough.
        outcomes, size = [], 0
        for outcome in self._pending[:MAX_OUTCOMES_PER_BATCH]:
            size += outcome.ByteSize()
            if outcomes and size > self._max_batch_bytes:
                break
            outcomes.append(outcome)
        extensions = [task_pb2.LeaseRef(task_id=i, epoch=e) for (i, e) in self._held] \
            if extend else []
        if not outcomes and not extensions:
            return None
        del self._pending[:len(outcomes)]
        batch_id = self._next_batch
        self._next_batch += 1
        self._unacked[batch_id] = outcomes
        return pb.ResultBatch(session_id=self._session_id, batch_id=batch_id,
                              outcomes=outcomes, extensions=extensions)

    def _on_ack(self, ack):
        with self._lock:
            # Every verdict is final: the outcomes of an acked batch are done with.
            for verdict in ack.outcomes:
                if verdict.verdict == pb.VERDICT_ACCEPTED:
                    self.accepted += 1
                else:
                    self.refused += 1
                    # Duplicates are expected after a reconnect: the master had
                    # committed them, but its ack was lost.
                    level = (logging.DEBUG if verdict.verdict == pb.VERDICT_DUPLICATE
                             else logging.WARNING)
                    log.log(level, "outcome for %s refused: %s %s", verdict.task_id,
                            pb.Verdict.Name(verdict.verdict), verdict.message)
            self._unacked.pop(ack.batch_id, None)
            self._lock.notify_all()

    def _await_all_acked(self, results):
        with self._lock:
            self._lock.wait_for(
                lambda: (not self._pending and not self._unacked)
                or results.ended.is_set(), timeout=30)

    def _wake(self):
        with self._lock:
            self._lock.notify_all()
