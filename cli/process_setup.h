// cli/process_setup.h — what socklab asks of the system before it runs a command.
#pragma once

namespace socklab::cli {

// A load of thousands of clients (socklab load, compare --scenario capacity) needs a socket each, and so does
// the server it starts, which inherits the limit: lifts the soft open-file limit (often 1024) to the hard one
// this user is allowed. Nothing on Windows, which has no such limit.
void raise_open_file_limit();

// Whether socklab.exe was started by a double-click in Explorer rather than typed in a console: then Windows made
// a console for it alone, so it is the only process attached to that console. Never on Linux.
bool started_by_double_click();

}  // namespace socklab::cli
