// Command sluice-benthos is the Redpanda Connect core (the MIT-licensed
// github.com/redpanda-data/benthos/v4, not github.com/redpanda-data/connect)
// that `task bench:peers` measures beside sluice
// (e2e/peers_bench_test.go), with only its io (http_server input,
// http_client output) and pure (memory buffer, archive and unarchive
// processors) components. The durable sqlite buffer is in connect, not in
// this core, so the buffer it is measured with is the memory buffer.
// bench/peers/build builds it from this separate module, so the sluice
// module never links it.
package main

import (
	"context"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

func main() {
	service.RunCLI(context.Background(), service.CLIOptSetBinaryName("sluice-benthos"), service.CLIOptSetVersion("4.60.0", ""))
}
