// The tutorial's minimal client in Go (github.com/rabbitmq/amqp091-go), for scripts/perf's
// optional stretch row (issue #11): the same protocol as scripts/minimal/tutorial.ts. One
// publisher on a confirm channel publishes all N persistent messages and waits for the confirms
// once at the end; W worker processes (this binary with -worker) with Qos(P) ack each message and
// count; one STOP message per worker at the end. Prints one JSON line:
//   {"impl":"go-tutorial","tasks":N,"workers":W,"prefetch":P,"throughput":<tasks/s>,"ms":..}
// Built by scripts/minimal/go/build from Debian's golang-go and golang-github-rabbitmq-amqp091-go-dev.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

const stop = "STOP"

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-tutorial:", err)
		os.Exit(1)
	}
}

func worker(url, queue string, prefetch int) {
	conn, err := amqp.Dial(url)
	must(err)
	ch, err := conn.Channel()
	must(err)
	must(ch.Qos(prefetch, 0, false))
	tag := fmt.Sprintf("go-tutorial-%d", os.Getpid()) // named, so that the Cancel below names it too
	msgs, err := ch.Consume(queue, tag, false, false, false, false, nil)
	must(err)
	fmt.Println("ready")
	count := 0
	stopped := false
	for msg := range msgs {
		isStop := string(msg.Body) == stop
		if isStop && stopped {
			must(msg.Nack(false, true)) // a second STOP: back to the queue for a worker that has none
			continue
		}
		must(msg.Ack(false))
		if !isStop {
			count++
			continue
		}
		stopped = true
		fmt.Printf("done %d\n", count)
		must(ch.Cancel(tag, false))
	}
	select {} // stays connected until the parent ends it: no ack lost in a close
}

func main() {
	isWorker := flag.Bool("worker", false, "run one worker: URL QUEUE PREFETCH")
	tasks := flag.Int("tasks", 20000, "tasks")
	workers := flag.Int("workers", 4, "worker processes")
	prefetch := flag.Int("prefetch", 1, "prefetch")
	url := flag.String("url", "amqp://guest:guest@127.0.0.1:5672", "broker")
	flag.Parse()
	if *isWorker {
		p, err := strconv.Atoi(flag.Arg(2))
		must(err)
		worker(flag.Arg(0), flag.Arg(1), p)
		return
	}
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	queue := "taskq-go-tutorial-" + hex.EncodeToString(suffix)
	conn, err := amqp.Dial(*url)
	must(err)
	ch, err := conn.Channel()
	must(err)
	must(ch.Confirm(false))
	_, err = ch.QueueDeclare(queue, true, false, false, false, nil)
	must(err)

	var wg sync.WaitGroup
	var mu sync.Mutex
	counted := 0
	var lastDone time.Time
	ready := make(chan struct{}, *workers)
	procs := make([]*exec.Cmd, *workers)
	for i := range procs {
		cmd := exec.Command(os.Args[0], "-worker", *url, queue, strconv.Itoa(*prefetch))
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		must(err)
		must(cmd.Start())
		procs[i] = cmd
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if line == "ready" {
					ready <- struct{}{}
				} else if strings.HasPrefix(line, "done ") {
					n, _ := strconv.Atoi(strings.TrimPrefix(line, "done "))
					mu.Lock()
					counted += n
					lastDone = time.Now()
					mu.Unlock()
					return
				}
			}
			must(fmt.Errorf("a worker exited early"))
		}()
	}
	for range procs {
		<-ready
	}

	body := []byte("task")
	ctx := context.Background()
	started := time.Now()
	var confirms []*amqp.DeferredConfirmation
	publish := func(b []byte) {
		c, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, false, false, amqp.Publishing{DeliveryMode: amqp.Persistent, Body: b})
		must(err)
		confirms = append(confirms, c)
	}
	for i := 0; i < *tasks; i++ {
		publish(body)
	}
	for i := 0; i < *workers; i++ {
		publish([]byte(stop))
	}
	for _, c := range confirms {
		if !c.Wait() {
			must(fmt.Errorf("a message was nacked"))
		}
	}
	wg.Wait()
	ms := float64(lastDone.Sub(started).Microseconds()) / 1000
	for _, p := range procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	if counted != *tasks {
		must(fmt.Errorf("workers counted %d of %d", counted, *tasks))
	}
	_, err = ch.QueueDelete(queue, false, false, false)
	must(err)
	must(conn.Close())
	fmt.Printf("{\"impl\":\"go-tutorial\",\"tasks\":%d,\"workers\":%d,\"prefetch\":%d,\"throughput\":%.1f,\"ms\":%.1f}\n", *tasks, *workers, *prefetch, float64(*tasks)/ms*1000, ms)
}
