#include "server/prometheus_text.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace distributo::server {
namespace {

// Appends one metric family: HELP and TYPE, then its samples.
class MetricWriter {
 public:
  explicit MetricWriter(std::string& out) : out_(out) {}

  void Family(absl::string_view name, absl::string_view type,
              absl::string_view help) {
    absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n");
  }

  void Sample(absl::string_view name, absl::string_view labels, double value) {
    absl::StrAppend(&out_, name, labels.empty() ? "" : "{", labels,
                    labels.empty() ? "" : "}", " ",
                    absl::StrFormat("%.17g", value), "\n");
  }

  void One(absl::string_view name, absl::string_view type,
           absl::string_view help, double value) {
    Family(name, type, help);
    Sample(name, "", value);
  }

  void HistogramFamily(absl::string_view name, absl::string_view help,
                       const server::Histogram& histogram) {
    Family(name, "histogram", help);
    const std::string bucket = absl::StrCat(name, "_bucket");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < histogram.buckets().size(); ++i) {
      cumulative += histogram.buckets()[i];
      const std::string le =
          i < Histogram::kBoundsSeconds.size()
              ? absl::StrFormat("%g", Histogram::kBoundsSeconds[i])
              : "+Inf";
      Sample(bucket, absl::StrCat("le=\"", le, "\""), cumulative);
    }
    Sample(absl::StrCat(name, "_sum"), "", histogram.sum_seconds());
    Sample(absl::StrCat(name, "_count"), "", histogram.count());
  }

 private:
  std::string& out_;
};

void WriteTasks(const QueueCounts& c, MetricWriter& w) {
  w.Family("distributo_tasks", "gauge", "Tasks by state.");
  for (const auto& [state, count] :
       {std::pair{"pending", c.pending}, std::pair{"leased", c.leased},
        std::pair{"backoff", c.backoff}, std::pair{"done", c.done},
        std::pair{"dead", c.dead}}) {
    w.Sample("distributo_tasks", absl::StrCat("state=\"", state, "\""), count);
  }
  w.One("distributo_tasks_enqueued_total", "counter", "Tasks ever enqueued.",
        c.total);
  w.One("distributo_tasks_dispatched_total", "counter",
        "Leases granted to workers.", c.leases);
  w.One("distributo_tasks_completed_total", "counter",
        "Tasks finished with a result.", c.done);
  w.One("distributo_task_failures_total", "counter",
        "Failed attempts reported by workers.", c.failures);
  w.One("distributo_tasks_dead_total", "counter",
        "Tasks given up on (out of attempts, or poison).", c.dead);
  w.One("distributo_duplicate_results_total", "counter",
        "Outcomes for tasks already finished (acked, not used).", c.duplicates);
  w.One("distributo_lease_expiries_total", "counter",
        "Leases that ran out before an outcome or extension.",
        c.lease_expiries);
  w.One("distributo_requeues_total", "counter",
        "Lost leases whose task went back to pending.", c.requeues);
  w.One("distributo_tasks_in_memory", "gauge",
        "Tasks the master holds in memory (a journal holds the rest).",
        c.in_memory);
  w.One("distributo_results_unhandled", "gauge",
        "Finished tasks not yet handed to the result sink.", c.unhandled);
  w.One("distributo_workers_connected", "gauge",
        "Worker sessions with an open stream.", c.sessions);
}

void WriteStreams(const StreamCounts& s, MetricWriter& w) {
  w.Family("distributo_grpc_streams", "gauge", "Open worker streams by RPC.");
  w.Sample("distributo_grpc_streams", "rpc=\"RequestBatch\"",
           s.request_batch_open);
  w.Sample("distributo_grpc_streams", "rpc=\"SubmitResults\"",
           s.submit_results_open);
  w.Family("distributo_grpc_streams_started_total", "counter",
           "Worker streams opened, by RPC.");
  w.Sample("distributo_grpc_streams_started_total", "rpc=\"RequestBatch\"",
           s.request_batch_total);
  w.Sample("distributo_grpc_streams_started_total", "rpc=\"SubmitResults\"",
           s.submit_results_total);
}

}  // namespace

std::string PrometheusText(const MasterStatus& status) {
  std::string out;
  MetricWriter w(out);
  WriteTasks(status.queue.counts, w);
  WriteStreams(status.streams, w);
  w.HistogramFamily("distributo_schedule_to_start_seconds",
                    "Time from pending to leased, per lease.",
                    status.queue.schedule_to_start);
  w.HistogramFamily("distributo_task_duration_seconds",
                    "Time from lease to accepted outcome, per current lease.",
                    status.queue.task_duration);
  w.HistogramFamily("distributo_journal_commit_seconds",
                    "Time one journal commit round took.",
                    status.commit_latency);
  w.One("distributo_serving", "gauge",
        "1 while the health service says SERVING.", status.serving ? 1 : 0);
  w.One("distributo_journal_durable", "gauge",
        "1 when the queue is journaled to disk.", status.durable ? 1 : 0);
  w.One("distributo_store_outages_total", "counter",
        "Times the journal or result sink began failing.", status.outages);
  return out;
}

}  // namespace distributo::server
