// The SQLite Store's schema, its migrations and per-connection settings.
// Used only inside ca-server/store/.
#ifndef GATE_CA_STORE_SQLITE_SCHEMA_H_
#define GATE_CA_STORE_SQLITE_SCHEMA_H_

#include <sqlite3.h>

#include "ca-server/store/sqlite_stmt.h"
#include "gate/status.h"

namespace gate::ca::sqlite {

// The schema version Migrate brings a database to.
extern const int kLatestSchemaVersion;

enum class ConnectionRole { kWriter, kReader };

// Settings every connection needs (busy timeout, defensive mode, foreign
// keys, synchronous=FULL, secure_delete). The writer switches the file to
// WAL; a reader checks it is in WAL and is made query-only.
Status Configure(sqlite3* db, ConnectionRole role);

// Takes the database from whatever version it is at (0 for a new file) to
// kLatestSchemaVersion in one transaction, so a crash leaves either the old
// schema or the new one. FailedPrecondition for a database newer than this
// gate-ca; DataLoss for a nonsensical version. Run on the writer only.
Status Migrate(sqlite3* db);

}  // namespace gate::ca::sqlite

#endif  // GATE_CA_STORE_SQLITE_SCHEMA_H_
