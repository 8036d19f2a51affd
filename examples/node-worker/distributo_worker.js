// A Distributo worker in Node.js, on @grpc/grpc-js and the proto files of
// proto/, loaded with @grpc/proto-loader.
//
//   const {Worker} = require("./distributo_worker");
//   new Worker("127.0.0.1:4000", async (payload) => ({...}), {concurrency: 4})
//       .run().then((code) => process.exit(code));
//
// `process(payload)` gets each task's JSON payload and returns (or resolves to)
// the JSON result; throwing fails the attempt (a TypeError or RangeError: for
// good, anything else: retried). The protocol is docs/protocol.md: a
// RequestBatch stream (hello, credit; tasks in) and a SubmitResults stream
// (outcomes and lease extensions out; acks in). The worker grants a window of
// credit, extends every lease it holds each third of the lease, keeps each
// outcome until its ack, reconnects with backoff (resuming its session,
// resubmitting what was not acked), drops what it holds when the master
// serves another job, and resolves 0 once the job is complete and acked.
"use strict";

const os = require("os");
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
const protobuf = require("protobufjs");

const PROTO_DIR = path.join(__dirname, "..", "..", "proto");
const JSON_TYPE = "type.googleapis.com/google.protobuf.Value";
const FATAL = new Set([grpc.status.INVALID_ARGUMENT, grpc.status.UNAUTHENTICATED,
                       grpc.status.PERMISSION_DENIED, grpc.status.UNIMPLEMENTED]);
const MAX_OUTCOMES_PER_BATCH = 100;
const DEFAULT_MAX_MESSAGE_BYTES = 4 << 20;
// Room for an outcome's lease and framing around its result bytes.
const OUTCOME_OVERHEAD_BYTES = 128;

const definition = protoLoader.loadSync("distributo/v1/distributor.proto", {
  includeDirs: [PROTO_DIR], keepCase: true, longs: String, enums: String,
  defaults: true, oneofs: true,
});
const v1 = grpc.loadPackageDefinition(definition).distributo.v1;
// protobufjs (under proto-loader) ships the well-known types.
const ValueType = protobuf.Root.fromJSON(
    protobuf.common.get("google/protobuf/struct.proto"))
    .lookupType("google.protobuf.Value");

// google.protobuf.Value <-> plain JSON values.
function fromValue(v) {
  switch (v.kind) {
    case "nullValue": return null;
    case "numberValue": return v.numberValue;
    case "stringValue": return v.stringValue;
    case "boolValue": return v.boolValue;
    case "structValue": return Object.fromEntries(Object.entries(
        v.structValue.fields || {}).map(([k, f]) => [k, fromValue(f)]));
    case "listValue": return (v.listValue.values || []).map(fromValue);
    default: return null;
  }
}

function toValue(x) {
  if (x === null || x === undefined) return {nullValue: 0};
  if (typeof x === "number") return {numberValue: x};
  if (typeof x === "string") return {stringValue: x};
  if (typeof x === "boolean") return {boolValue: x};
  if (Array.isArray(x)) return {listValue: {values: x.map(toValue)}};
  return {structValue: {fields: Object.fromEntries(
      Object.entries(x).map(([k, f]) => [k, toValue(f)]))}};
}

const key = (taskId, epoch) => `${taskId}#${epoch}`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class Worker {
  constructor(target, process, {concurrency = 1, name, prefetch} = {}) {
    this.target = target;
    this.process = process;
    this.concurrency = concurrency;
    this.prefetch = prefetch;
    this.name = name || `${os.hostname()}/${global.process.pid}/node`;
    this.client = new v1.Distributor(target, grpc.credentials.createInsecure());
    this.held = new Map();      // key -> task, queued or running
    this.queue = [];            // tasks waiting for a slot
    this.running = 0;
    this.pending = [];          // outcomes not yet sent
    this.unacked = new Map();   // batch_id -> outcomes
    this.nextBatch = 1;
    this.sessionId = "";
    this.jobId = "";
    this.accepted = 0;
    this.refused = 0;
  }

  async run() {
    let delay = 1000;
    for (;;) {
      const end = await this.session();
      if (end.complete) {
        console.error(`job complete: ${this.accepted} outcomes accepted, ` +
                      `${this.refused} refused`);
        return 0;
      }
      if (end.started) delay = 1000;
      if (end.code === grpc.status.NOT_FOUND && this.sessionId) {
        console.error(`master forgot session ${this.sessionId}; starting a new one`);
        this.sessionId = "";
        continue;
      }
      if (FATAL.has(end.code)) {
        console.error(`master refused us: ${end.details}`);
        return 1;
      }
      console.error(`master ${this.target}: ${end.details}; retrying in ${delay} ms`);
      await sleep(delay * (0.8 + 0.4 * Math.random()));
      delay = Math.min(delay * 1.6, 30000);
    }
  }

  // One session: resolves {complete, started, code, details} when it ends.
  session() {
    return new Promise((resolve) => {
      const call = this.client.RequestBatch();
      let results = null;
      let started = false;
      let done = false;
      const finish = (ending) => {
        if (done) return;
        done = true;
        // Once told the job is complete, any end is the end: every task is
        // finished, so outcomes still unacked would only be duplicates.
        const end = this.complete ? {...ending, complete: true} : ending;
        this.call = null;
        if (!end.complete) this.results = null;
        if (this.timer) clearInterval(this.timer);
        if (results && !end.complete) results.cancel();
        call.cancel();
        resolve({started, ...end});
      };
      call.on("data", (message) => {
        if (message.kind === "session") {
          started = true;
          results = this.startSession(message.session, call, (error) =>
            finish({code: error.code, details: `results stream: ${error.details}`}));
        } else if (message.kind === "tasks") {
          this.addTasks(message.tasks.tasks);
        } else if (message.kind === "cancel") {
          let dropped = 0;
          for (const lease of message.cancel.leases) {
            if (this.held.delete(key(lease.task_id, lease.epoch))) dropped++;
          }
          // Their outcomes will not be sent: hand their credit back now.
          if (dropped > 0) call.write({credit: {tasks: dropped}});
        } else if (message.kind === "complete") {
          console.error(`the master says the job is complete ` +
                        `(${message.complete.done} done, ${message.complete.dead} dead)`);
          this.closeWhenAcked(results, () => finish({complete: true}));
        }
      });
      call.on("error", (error) => finish({code: error.code, details: error.details}));
      call.on("end", () => {
        if (!this.complete) finish({code: grpc.status.UNAVAILABLE, details: "stream ended"});
      });
      call.write({hello: {
        worker_name: this.name, slots: this.concurrency, accepted_types: [JSON_TYPE],
        sdk_version: "distributo-node/0.1", resume_session_id: this.sessionId,
      }});
    });
  }

  startSession(start, call, onBroken) {
    if (this.jobId && start.job_id && start.job_id !== this.jobId) {
      console.error(`master serves job ${start.job_id}, not ${this.jobId}: dropping ` +
                    `${this.held.size} tasks and ${this.pending.length} outcomes`);
      this.held.clear();
      this.queue = [];
      this.pending = [];
      this.unacked.clear();
    }
    this.jobId = start.job_id || this.jobId;
    this.sessionId = start.session_id;
    this.complete = false;
    // Unacked outcomes go out again on the new results stream, first.
    const resent = [...this.unacked.values()].flat();
    this.pending = resent.concat(this.pending);
    this.unacked.clear();
    this.call = call;
    // Half the master's limit leaves room for extensions and framing.
    this.maxBatchBytes = Number(start.max_message_bytes || DEFAULT_MAX_MESSAGE_BYTES) / 2;
    this.maxResultBytes = Number(start.max_result_bytes || 0);
    const window = this.prefetch || Math.max(2 * Math.max(1, start.max_batch_tasks),
                                             this.concurrency);
    console.error(`${start.resumed ? "resumed" : "started"} session ${start.session_id}: ` +
                  `window ${window}, resubmitting ${resent.length} outcomes`);
    const grant = window - this.held.size;
    if (grant > 0) call.write({credit: {tasks: grant}});
    const results = this.client.SubmitResults();
    results.on("data", (ack) => this.onAck(ack));
    results.on("error", (error) => {
      if (error.code !== grpc.status.CANCELLED) onBroken(error);
    });
    results.on("end", () => {});
    this.results = results;
    const leaseMs = Math.max(1000, Number(start.lease_duration.seconds) * 1000 +
                             Number(start.lease_duration.nanos) / 1e6);
    this.timer = setInterval(() => this.send(true), leaseMs / 3);
    this.send(false);
    return results;
  }

  addTasks(tasks) {
    for (const task of tasks) {
      const k = key(task.id, task.epoch);
      if (this.held.has(k)) continue;
      this.held.set(k, task);
      this.queue.push(task);
    }
    this.fillSlots();
  }

  fillSlots() {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const task = this.queue.shift();
      if (!this.held.has(key(task.id, task.epoch))) continue;
      this.running++;
      this.runTask(task).then((outcome) => {
        this.running--;
        if (this.held.delete(key(task.id, task.epoch))) {
          this.pending.push(outcome);
          if (this.call) this.call.write({credit: {tasks: 1}});
          this.send(false);
        }
        this.fillSlots();
      });
    }
  }

  async runTask(task) {
    const lease = {task_id: task.id, epoch: task.epoch};
    try {
      if (task.payload.type_url !== JSON_TYPE) {
        throw new TypeError(`payload of type ${task.payload.type_url}, not JSON`);
      }
      const result = await this.process(fromValue(ValueType.toObject(
          ValueType.decode(task.payload.value), {oneofs: true})));
      const value = ValueType.encode(ValueType.fromObject(toValue(result))).finish();
      if (this.maxResultBytes && value.length > this.maxResultBytes) {
        // The master would refuse it: fail the attempt here instead.
        throw new Error(`result of ${value.length} bytes, the master takes at ` +
                        `most ${this.maxResultBytes}`);
      }
      return {lease, result: {type_url: JSON_TYPE, value: Buffer.from(value)}};
    } catch (error) {
      const retryable = !(error instanceof TypeError || error instanceof RangeError);
      return {lease, failure: {code: error.name || "Error", message: String(error.message),
                               retryable}};
    }
  }

  // Sends what is pending, and every held lease when `extend`.
  send(extend) {
    if (!this.results) return;
    while (this.pending.length > 0 || extend) {
      // By count and by bytes, so that no batch exceeds the master's limit.
      let count = 0;
      let bytes = 0;
      while (count < Math.min(this.pending.length, MAX_OUTCOMES_PER_BATCH)) {
        const outcome = this.pending[count];
        bytes += OUTCOME_OVERHEAD_BYTES + (outcome.result ? outcome.result.value.length
                                                          : outcome.failure.message.length);
        if (count > 0 && bytes > this.maxBatchBytes) break;
        count++;
      }
      const outcomes = this.pending.splice(0, count);
      const extensions = extend ? [...this.held.values()].map(
          (t) => ({task_id: t.id, epoch: t.epoch})) : [];
      extend = false;
      if (outcomes.length === 0 && extensions.length === 0) return;
      const batchId = this.nextBatch++;
      this.unacked.set(String(batchId), outcomes);
      this.results.write({session_id: this.sessionId, batch_id: batchId, outcomes,
                          extensions});
    }
  }

  onAck(ack) {
    // Every verdict is final: the outcomes of an acked batch are done with.
    for (const verdict of ack.outcomes) {
      if (verdict.verdict === "VERDICT_ACCEPTED") {
        this.accepted++;
      } else {
        this.refused++;
        // Duplicates are expected after a reconnect: the ack was lost.
        if (verdict.verdict !== "VERDICT_DUPLICATE") {
          console.error(`outcome for ${verdict.task_id} refused: ${verdict.verdict} ` +
                        `${verdict.message}`);
        }
      }
    }
    this.unacked.delete(String(ack.batch_id));
    if (this.onAllAcked && this.pending.length === 0 && this.unacked.size === 0) {
      this.onAllAcked();
    }
  }

  closeWhenAcked(results, then) {
    this.complete = true;
    const close = () => {
      this.onAllAcked = null;
      results.end();  // WritesDone: the master ends the stream with OK
      results.on("end", then);
      results.on("error", then);
      setTimeout(then, 10000).unref();
    };
    if (this.pending.length === 0 && this.unacked.size === 0) {
      close();
    } else {
      this.onAllAcked = close;
      // The job is over either way: do not wait for acks forever.
      setTimeout(() => this.onAllAcked && this.onAllAcked(), 30000).unref();
    }
  }
}

module.exports = {Worker};
