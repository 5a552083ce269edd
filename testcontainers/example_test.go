package streamcluster_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	streamcluster "github.com/streamcluster/streamcluster/testcontainers"
)

// A 3-node cluster on a real Redis Cluster, all in containers: ask every
// node how many members it sees.
func Example() {
	ctx := context.Background()
	image := os.Getenv("SC_IMAGE") // e.g. localhost/streamcluster:dev
	if image == "" {
		image = "streamcluster/streamcluster:latest"
	}
	redisImage := os.Getenv("SC_REDIS_IMAGE")
	if redisImage == "" {
		redisImage = streamcluster.DefaultRedisImage
	}

	c, err := streamcluster.Run(ctx, image,
		streamcluster.WithRedisImage(redisImage),
		streamcluster.WithNodes(3),
		streamcluster.WithMinimumNodes(2),
		streamcluster.WithHeartbeat(500*time.Millisecond),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		if err := c.Terminate(context.Background()); err != nil {
			log.Print(err)
		}
	}()

	for i := range c.Len() {
		st, err := c.Status(ctx, i)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s sees %d nodes\n", c.NodeID(i), st.Count)
	}
	// Output:
	// node-1 sees 3 nodes
	// node-2 sees 3 nodes
	// node-3 sees 3 nodes
}
