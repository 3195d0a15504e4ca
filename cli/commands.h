// Registration of the `tuphap` commands, one function per group.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/context.h"
#include "node/domain/person_rules.h"

namespace tuphap::cli {

void RegisterNodeCommands(CLI::App& app, Context& ctx, Action* action);
void RegisterRecordCommands(CLI::App& app, Context& ctx, Action* action);
void RegisterDemoCommand(CLI::App& app, Context& ctx, Action* action);
void RegisterImportCommand(CLI::App& app, Context& ctx, Action* action);
void RegisterConflictCommands(CLI::App& app, Context& ctx, Action* action);
void RegisterGenerateCommand(CLI::App& app, Context& ctx, Action* action);
void RegisterSchemaCommand(CLI::App& app, Context& ctx, Action* action);
void RegisterSecurityCommands(CLI::App& app, Context& ctx, Action* action);
void RegisterSyncCommands(CLI::App& app, Context& ctx, Action* action);
void RegisterReportCommands(CLI::App& app, Context& ctx, Action* action);
void RegisterPersonCommands(CLI::App& app, Context& ctx, Action* action);
void RegisterOfficerCommands(CLI::App& app, Context& ctx, Action* action);
void RegisterBackupCommands(CLI::App& app, Context& ctx, Action* action);

// What `status` shows of restore and delivery (cmd_backup.cc): into `j`
// for --json, as text lines otherwise (j null).
Status AddDeliveryToStatus(const Context& ctx, app::Office& office, Json* j);

// What the records show of a person's marital status, in the officer's
// language (record add, person show).
std::string DescribeMaritalRecord(const Context& ctx, const domain::MaritalRecord& m);

// "KEY=VALUE" -> (KEY, VALUE); InvalidArgument naming the argument otherwise.
Result<std::pair<std::string, std::string>> SplitFieldArgument(std::string_view arg);

}  // namespace tuphap::cli
