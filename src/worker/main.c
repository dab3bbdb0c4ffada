/* sekisho-worker: parses hostile bytes for the gate, inside its sandbox (worker.h).
 * Started by the gate's pool (pool.h), never by hand. */
#include "worker.h"

int main(int argc, char **argv)
{
	return sk_worker_main(argc, argv, NULL);
}
