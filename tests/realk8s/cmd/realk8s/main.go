// Command realk8s runs a real Kubernetes control plane for rekon's tests, in one process:
// embedded etcd, kube-apiserver, kube-controller-manager and kube-scheduler from
// k8s.io/kubernetes, plus kwok (a child process: it pins its own Kubernetes modules) so Pods
// are scheduled onto simulated Nodes and go through the lifecycle rekon's emulator gives them,
// without containers (stages.go), and claims of the default StorageClass get volumes.
//
// It speaks like `rekon emulate`: one ready line on stdout once the cluster accepts work,
// a kubeconfig written to --kubeconfig-out, and a clean stop on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/klog/v2"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address of the API server (host:port, port 0 picks one)")
	kubeconfigOut := flag.String("kubeconfig-out", "", "write a kubeconfig for the cluster here")
	dataDir := flag.String("data-dir", "", "folder for etcd's data, certificates and logs (default: a new temporary folder, removed on stop)")
	kwokPath := flag.String("kwok", "", "the kwok binary (default: kwok beside this program)")
	nodes := flag.Int("nodes", 2, "simulated Nodes kwok keeps Ready")
	auditLog := flag.String("audit-log", "", "write the API server's audit log here: JSON lines, at Metadata level (deletes at Request level, for their dryRun), of every request but the control plane's own")
	logFile := flag.String("log", "", "write the components' logs here (default: stderr)")
	flag.Parse()

	if err := run(options{
		listen:        *listen,
		kubeconfigOut: *kubeconfigOut,
		dataDir:       *dataDir,
		kwok:          *kwokPath,
		nodes:         *nodes,
		auditLog:      *auditLog,
		logFile:       *logFile,
	}); err != nil {
		fmt.Fprintf(os.Stderr, "realk8s: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	listen, kubeconfigOut, dataDir, kwok, auditLog, logFile string
	nodes                                                   int
}

func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	dir := o.dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "realk8s-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if o.logFile != "" {
		if err := redirectLogs(o.logFile); err != nil {
			return err
		}
	}

	pki, err := writePKI(filepath.Join(dir, "pki"))
	if err != nil {
		return fmt.Errorf("certificates: %w", err)
	}

	// Components stop when this context ends; the signal context ends it.
	components, cancel := context.WithCancel(context.Background())
	defer cancel()

	etcd, err := startEtcd(filepath.Join(dir, "etcd"))
	if err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	defer etcd.Close()

	listener, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", o.listen, err)
	}
	url := fmt.Sprintf("https://%s", listener.Addr().String())
	apiserverDone := make(chan error, 1)
	go func() {
		apiserverDone <- runAPIServer(components, apiServerConfig{
			listener: listener,
			etcd:     etcd.clientURL,
			pki:      pki,
			auditLog: o.auditLog,
			dir:      dir,
		})
	}()

	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := writeKubeconfig(kubeconfig, url, pki, pki.componentToken); err != nil {
		return err
	}
	if err := waitReady(ctx, url, pki, apiserverDone); err != nil {
		return err
	}

	failed := make(chan error, 3)
	go func() {
		failed <- fmt.Errorf("kube-controller-manager: %w", runControllerManager(components, kubeconfig, pki))
	}()
	go func() { failed <- fmt.Errorf("kube-scheduler: %w", runScheduler(components, kubeconfig)) }()

	kwok, err := startKwok(o.kwok, kubeconfig, filepath.Join(dir, "kwok.log"))
	if err != nil {
		return fmt.Errorf("kwok: %w", err)
	}
	defer stopChild(kwok)

	if err := settle(ctx, url, pki, o.nodes); err != nil {
		return err
	}
	if o.kubeconfigOut != "" {
		if err := writeKubeconfig(o.kubeconfigOut, url, pki, pki.token); err != nil {
			return fmt.Errorf("--kubeconfig-out %s: %w", o.kubeconfigOut, err)
		}
	}
	fmt.Printf("realk8s: Kubernetes API server listening on %s\n", url)

	select {
	case <-ctx.Done():
	case err := <-apiserverDone:
		return fmt.Errorf("kube-apiserver stopped: %w", err)
	case err := <-failed:
		return err
	}
	// Stop within the 5 s a test waits: kwok holds no state worth a graceful stop, the
	// components stop with their context, and etcd gets what time is left.
	_ = kwok.Process.Kill()
	cancel()
	done := make(chan struct{})
	go func() {
		etcd.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	klog.Flush()
	if o.dataDir == "" {
		_ = os.RemoveAll(dir)
	}
	// The deferred stops would wait again for what was just given up on.
	os.Exit(0)
	return nil
}

// startKwok starts kwok managing the Nodes this program creates (annotated as kwok's).
func startKwok(path, kubeconfig, log string) (*exec.Cmd, error) {
	if path == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		path = filepath.Join(filepath.Dir(self), "kwok")
	}
	out, err := os.Create(log)
	if err != nil {
		return nil, err
	}
	// kwok's command reads its stages only from configuration (see stages.go).
	config := filepath.Join(filepath.Dir(log), "kwok-stages.yaml")
	stages, err := kwokStages()
	if err != nil {
		return nil, fmt.Errorf("stages: %w", err)
	}
	if err := os.WriteFile(config, []byte(stages), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(path,
		"--config", config,
		"--kubeconfig", kubeconfig,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-lease-duration-seconds=40",
		"--server-address=",
	)
	cmd.Stdout = out
	cmd.Stderr = out
	// kwok must not outlive this process, however it ends.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cmd, nil
}

// stopChild sends SIGTERM, then SIGKILL after a second.
func stopChild(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
