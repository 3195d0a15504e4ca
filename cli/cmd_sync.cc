// tuphap serve, tuphap sync, tuphap bundle export|import.
#include <sys/prctl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <functional>
#include <iostream>
#include <ostream>

#include "cli/commands.h"
#include "cli/format.h"
#include "cli/i18n.h"
#include "cli/metrics_server.h"
#include "cli/passphrase.h"
#include "cli/service_notify.h"
#include "node/bundle.h"
#include "node/transport.h"
#include "web/ui.h"

namespace tuphap::cli {
namespace {

// web::WaitForStopSignal for a node that serves only the web app (its
// server runs in threads of its own): the main thread waits for
// SIGINT/SIGTERM and keeps systemd's watchdog fed while it does.
void WaitForStopSignalTicking(ServiceNotifier& notifier) {
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer timer(io);
  std::function<void()> arm = [&] {
    notifier.Tick();
    timer.expires_after(std::chrono::seconds(1));
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) arm();
    });
  };
  signals.async_wait([&](const boost::system::error_code&, int) { timer.cancel(); });
  arm();
  io.run();
}

}  // namespace

void RegisterSyncCommands(CLI::App& app, Context& ctx, Action* action) {
  struct ServeArgs {
    std::string listen;
    std::vector<std::string> upstreams;
    std::string ui;
    bool ui_expose = false;
    bool exit_with_parent = false;
    std::string metrics;
    bool metrics_expose = false;
    int max_catching_up = node::ServeOptions{}.max_catching_up;
  };
  auto serve_args = std::make_shared<ServeArgs>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Run the node: listen for peers and/or keep syncing with upstream nodes");
  serve->add_option("--listen", serve_args->listen, "endpoint to listen on (tcp://0.0.0.0:7700)");
  serve->add_option("--upstream", serve_args->upstreams, "endpoint to dial (repeatable)");
  serve->add_option("--ui", serve_args->ui,
                    "serve the officers' web app at ADDRESS:PORT (127.0.0.1:8080)");
  serve->add_flag("--ui-expose", serve_args->ui_expose,
                  "let --ui listen on an address other than 127.0.0.1: everyone on that network "
                  "can then reach the login page (docs/operator-guide.md)");
  serve->add_option("--metrics", serve_args->metrics,
                    "serve Prometheus metrics at http://ADDRESS:PORT/metrics (127.0.0.1:9464)");
  serve->add_flag("--metrics-expose", serve_args->metrics_expose,
                  "let --metrics listen on an address other than 127.0.0.1, and let the web app's "
                  "/metrics answer other computers (docs/metrics.md)");
  serve
      ->add_option("--max-catching-up", serve_args->max_catching_up,
                   "how many peers may send their backlog at once; the others' HELLOs wait "
                   "their turn (16; 0: no limit)")
      ->check(CLI::Range(0, 100000));
  serve->add_flag("--exit-with-parent", serve_args->exit_with_parent,
                  "stop (as on SIGTERM) when the process that started this one exits: for tests "
                  "and scripts, so no orphan holds the port and the store; by default the node "
                  "keeps running, as a service does");
  serve->callback([&ctx, action, serve_args] {
    *action = [&ctx, serve_args]() -> Status {
      if (serve_args->exit_with_parent) {
        // Owned by what started it (a test, a script): when that exits,
        // this one gets SIGTERM and stops cleanly.
        const pid_t parent = getppid();
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
          return Status::Cancelled("the process that started this node has already exited");
      }
      node::ServeOptions o;
      o.listen = !serve_args->listen.empty() ? serve_args->listen : ctx.listen.value_or("");
      o.upstreams = !serve_args->upstreams.empty() ? serve_args->upstreams : ctx.upstreams;
      o.max_catching_up = serve_args->max_catching_up;
      const std::string ui = !serve_args->ui.empty() ? serve_args->ui : ctx.ui.value_or("");
      if (o.listen.empty() && o.upstreams.empty() && ui.empty())
        return Status::InvalidArgument(
            "nothing to serve: give --listen ENDPOINT, --upstream ENDPOINT and/or --ui "
            "ADDRESS:PORT (or set them in the config file)");
      // The passphrase is read once, at start, for both the sync loop's
      // node and the web app's, and forgotten once both are unlocked.
      auto secret = std::make_shared<std::optional<replication::SecretBytes>>();
      node::NodeOptions node_options = ctx.NodeOptions();
      node_options.passphrase = [secret, &ctx]() -> Result<replication::SecretBytes> {
        if (!secret->has_value()) {
          TUPHAP_ASSIGN_OR_RETURN(replication::SecretBytes s, ReadPassphrase(ctx));
          secret->emplace(std::move(s));
        }
        return replication::SecretBytes((*secret)->data(), (*secret)->size());
      };
      std::unique_ptr<app::Office> n;
      if (!o.listen.empty() || !o.upstreams.empty()) {
        node::NodeOptions loop_options = node_options;
        loop_options.serving_hub = true;  // only a hub's store takes it
        TUPHAP_ASSIGN_OR_RETURN(n, app::Office::Open(ctx.data_dir, loop_options, ctx.lang));
        TUPHAP_RETURN_IF_ERROR(n->Unlock());
      }
      // Each log line reaches the log when it is written (a full disk, a
      // crash or SIGKILL must not swallow what was already said).
      ctx.out->setf(std::ios::unitbuf);
      ctx.err->setf(std::ios::unitbuf);
      std::unique_ptr<web::Ui> web_ui;
      if (!ui.empty()) {
        TUPHAP_ASSIGN_OR_RETURN(auto where, web::ParseHostPort(ui));
        web::UiOptions uo;
        uo.address = where.first;
        uo.port = where.second;
        uo.expose = serve_args->ui_expose;
        uo.web.metrics_expose = serve_args->metrics_expose;
        uo.web.time_zone = ctx.time_zone;
        uo.web.behind_after_s = ctx.behind_after_hours * 3600;
        uo.web.upstreams = o.upstreams;
        uo.web.officer_kdf = KdfFromEnvironment();
        TUPHAP_ASSIGN_OR_RETURN(web_ui, web::Ui::Start(ctx.data_dir, node_options, std::move(uo)));
        *ctx.out << Tr(ctx, "web app at {0}", {web_ui->url()}) << std::endl;
      }
      std::unique_ptr<web::HttpServer> metrics;
      const std::string metrics_at =
          !serve_args->metrics.empty() ? serve_args->metrics : ctx.metrics.value_or("");
      if (!metrics_at.empty()) {
        TUPHAP_ASSIGN_OR_RETURN(metrics,
                                StartMetricsServer(ctx, metrics_at, serve_args->metrics_expose));
      }
      secret->reset();
      auto notifier = std::make_shared<ServiceNotifier>();
      if (n == nullptr) {
        notifier->Ready("serving the web app");
        WaitForStopSignalTicking(*notifier);
        notifier->Stopping();
        *ctx.out << Tr(ctx, "stopped") << std::endl;
        return Status::Ok();
      }
      o.on_ready = [notifier] { notifier->Ready("serving"); };
      o.on_turn = [notifier] { notifier->Tick(); };
      Status served = n->Serve(o);
      notifier->Stopping();
      return served;
    };
  });

  struct SyncArgs {
    std::string endpoint;
    std::string peer;
    bool once = false;
    int timeout = 60;
  };
  auto sync_args = std::make_shared<SyncArgs>();
  CLI::App* sync = app.add_subcommand("sync", "Sync with one node until both sides have caught up");
  sync->add_option("ENDPOINT", sync_args->endpoint, "the peer's endpoint (tcp://host:port)")
      ->required();
  sync->add_flag("--once", sync_args->once, "sync until caught up, then exit (the default)");
  sync->add_option("--peer", sync_args->peer,
                   "the node id expected there (default: this province's hub)");
  sync->add_option("--timeout", sync_args->timeout,
                   "give up after this many seconds without "
                   "progress")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  sync->callback([&ctx, action, sync_args] {
    *action = [&ctx, sync_args]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      if (!ctx.json) {
        *ctx.out << Tr(ctx, "node {0} syncing with {1}", {office->node_id(), sync_args->endpoint})
                 << std::endl;
      }
      TUPHAP_ASSIGN_OR_RETURN(
          node::SyncResult r,
          office->SyncNow(sync_args->endpoint, sync_args->peer, sync_args->timeout));
      const uint64_t refused = r.stats.refused_here + r.stats.refused_by_peer;
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("node_id", office->node_id());
        j.Set("peer", r.peer_id);
        j.Set("endpoint", sync_args->endpoint);
        j.Set("sent", static_cast<int64_t>(r.stats.sent));
        j.Set("received", static_cast<int64_t>(r.stats.received));
        j.Set("refused", static_cast<int64_t>(refused));
        j.Set("bytes_out", static_cast<int64_t>(r.stats.bytes_out));
        j.Set("bytes_in", static_cast<int64_t>(r.stats.bytes_in));
        j.Set("sessions", static_cast<int64_t>(r.sessions));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(
            ctx, "caught up with {0}: sent {1}, received {2}, refused {3} ({4} bytes",
            {r.peer_id, std::to_string(r.stats.sent), std::to_string(r.stats.received),
             std::to_string(refused), std::to_string(r.stats.bytes_out + r.stats.bytes_in)});
        if (r.sessions > 1)
          *ctx.out << Tr(ctx, " in {0} connections", {std::to_string(r.sessions)});
        *ctx.out << ")\n";
      }
      return Status::Ok();
    };
  });

  CLI::App* bundle = app.add_subcommand("bundle", "Changes carried by file (a USB stick)");
  bundle->require_subcommand(1);
  struct ExportArgs {
    std::string peer;
    std::string out;
    bool all = false;
  };
  auto ex = std::make_shared<ExportArgs>();
  CLI::App* exp = bundle->add_subcommand("export", "Write the changes a node lacks to a file");
  exp->add_option("--for", ex->peer, "the recipient's node id")->required();
  exp->add_option("--out", ex->out, "the bundle file to write")->required();
  exp->add_flag("--all", ex->all, "everything it may receive, not only what it lacks");
  exp->callback([&ctx, action, ex] {
    *action = [&ctx, ex]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(node::BundleExport r,
                              office->ExportBundle(ex->peer, ex->all, ex->out));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("for", r.peer);
        j.Set("changes", static_cast<int64_t>(r.envelopes));
        j.Set("bytes", static_cast<int64_t>(r.bytes));
        j.Set("file", ex->out);
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx,
                       "wrote {0} change(s) for {1} to {2} ({3} bytes, encrypted to that node)",
                       {std::to_string(r.envelopes), r.peer, ex->out, std::to_string(r.bytes)})
                 << '\n';
      }
      return Status::Ok();
    };
  });
  auto in_file = std::make_shared<std::string>();
  CLI::App* imp = bundle->add_subcommand("import", "Apply a bundle made for this node");
  imp->add_option("FILE", *in_file, "the bundle file")->required();
  imp->callback([&ctx, action, in_file] {
    *action = [&ctx, in_file]() -> Status {
      TUPHAP_ASSIGN_OR_RETURN(std::unique_ptr<app::Office> office, ctx.OpenOffice());
      TUPHAP_ASSIGN_OR_RETURN(node::BundleImport r, office->ImportBundle(*in_file));
      if (ctx.json) {
        Json j = Json::MakeObject();
        j.Set("from", r.sender);
        j.Set("changes", static_cast<int64_t>(r.envelopes));
        j.Set("new", static_cast<int64_t>(r.report.appended));
        j.Set("duplicates", static_cast<int64_t>(r.report.duplicates));
        j.Set("held", static_cast<int64_t>(r.report.held));
        j.Set("refused", static_cast<int64_t>(r.report.refused));
        ctx.PrintJson(j);
      } else {
        *ctx.out << Tr(ctx,
                       "bundle from {0}: {1} change(s), {2} new, {3} already here, {4} held, {5} "
                       "refused",
                       {r.sender, std::to_string(r.envelopes), std::to_string(r.report.appended),
                        std::to_string(r.report.duplicates), std::to_string(r.report.held),
                        std::to_string(r.report.refused)})
                 << '\n';
        if (r.report.appended == 0 && r.report.refused == 0 && r.report.held == 0)
          *ctx.out << Tr(ctx, "nothing new: this bundle was already applied") << '\n';
      }
      return Status::Ok();
    };
  });
}

}  // namespace tuphap::cli
