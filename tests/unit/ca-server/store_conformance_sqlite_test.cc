// The Store conformance suite (store_conformance.h) on SQLite.
#include "ca-server/store_conformance_all.h"
#include "ca-server/store_sqlite_backend.h"

GATE_INSTANTIATE_STORE_CONFORMANCE(Sqlite, ::gate::ca::SqliteBackend);
