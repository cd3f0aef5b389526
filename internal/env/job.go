package env

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// Launchers, the values of Job.Launcher.
const (
	LauncherSlurm      = "slurm"
	LauncherKubernetes = "kubernetes"
	LauncherTorchrun   = "torchrun"
	LauncherMPI        = "mpi"
)

// maxSessionIDPart bounds each value that goes into Job.SessionID: longer
// than any scheduler's id or Kubernetes name (63), short enough to read.
const maxSessionIDPart = 128

// Job holds the facts of the distributed job (a multi-node or multi-rank
// training run) that graphsignal runs in. The zero value, with Launcher "",
// means "not in one"; its other fields are then meaningless. Otherwise
// unknown facts are "" and, for the numbers, -1 (Rank, LocalRank, NodeRank)
// or 0 (WorldSize, Nodes).
type Job struct {
	// Launcher is the system (a Launcher constant) that gave ID; where none
	// gave one, the one that gave the rank facts.
	Launcher string
	// ID is the job's id, the same on every node and rank of one job and
	// different across jobs; "" when unknown.
	ID string
	// Scope is where ID is unique: the Slurm cluster, the Kubernetes
	// namespace; "" when unknown or not needed.
	Scope     string
	Name      string // the job's name (SLURM_JOB_NAME, the Kubernetes job's name)
	Rank      int    // global rank; -1 when unknown (as when graphsignal wraps torchrun)
	LocalRank int    // rank on this node; -1 when unknown
	WorldSize int    // number of ranks; 0 when unknown
	NodeRank  int    // this node's index; -1 when unknown
	Nodes     int    // number of nodes; 0 when unknown
	// Node is this node's name where the scheduler says it (SLURMD_NODENAME;
	// in Kubernetes NODE_NAME, else the pod's name), else "".
	Node        string
	ArrayJobID  string // the Slurm job array's id (SLURM_ARRAY_JOB_ID)
	ArrayTaskID string // the task's index in the array (SLURM_ARRAY_TASK_ID)
}

// SessionID returns the session id that every run of the job shares, or ""
// when ID is "" (or holds no character a session id may hold):
//
//	slurm-<cluster>-<job id>          slurm-<job id> without SLURM_CLUSTER_NAME
//	k8s-<namespace>-<name>-<uid>      k8s-<namespace>-<name> without a uid
//	torchrun-<rdzv id>
//	mpi-<PMIx namespace>
//
// Each value is cut to 128 bytes, and every run of bytes other than ASCII
// letters, digits, '.' and '_' becomes one '-', so the id needs no quoting
// in a shell, a URL or GRAPHSIGNAL_TAGS. Missing parts are left out.
func (j Job) SessionID() string {
	if j.ID == "" {
		return ""
	}
	prefix := j.Launcher
	if prefix == LauncherKubernetes {
		prefix = "k8s"
	}
	id := sessionIDPart(j.ID)
	if prefix == "" || id == "" {
		return ""
	}
	parts := []string{prefix}
	if s := sessionIDPart(j.Scope); s != "" {
		parts = append(parts, s)
	}
	if n := sessionIDPart(j.Name); j.Launcher == LauncherKubernetes && n != "" && n != id {
		parts = append(parts, n)
	}
	return strings.Join(append(parts, id), "-")
}

// sessionIDPart returns s cut to maxSessionIDPart bytes, with each run of
// bytes outside [A-Za-z0-9._] made one '-', and without '-' at either end.
func sessionIDPart(s string) string {
	s = s[:min(len(s), maxSessionIDPart)]
	var b strings.Builder
	dash := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteByte(c)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// Tags returns the job facts that are known as tags, or nil when not in a
// job: job_launcher, job_id, job_name, job_rank, job_local_rank,
// job_world_size, job_node_rank, job_nodes, job_node, job_array_id and
// job_array_task_id (the TagJob* constants). Numbers are decimal. Values
// are trimmed, and a comma, which GRAPHSIGNAL_TAGS cannot carry, becomes
// ';', so FormatTags keeps them all.
func (j Job) Tags() telemetry.Tags {
	if j.Launcher == "" {
		return nil
	}
	t := telemetry.Tags{telemetry.TagJobLauncher: j.Launcher}
	for k, v := range map[string]string{
		telemetry.TagJobID: j.ID, telemetry.TagJobName: j.Name, telemetry.TagJobNode: j.Node,
		telemetry.TagJobArrayID: j.ArrayJobID, telemetry.TagJobArrayTaskID: j.ArrayTaskID,
	} {
		if v = strings.TrimSpace(strings.ReplaceAll(v, ",", ";")); v != "" {
			t[k] = v
		}
	}
	count := func(k string, n, unknown int) {
		if n > unknown {
			t[k] = strconv.Itoa(n)
		}
	}
	count(telemetry.TagJobRank, j.Rank, -1)
	count(telemetry.TagJobLocalRank, j.LocalRank, -1)
	count(telemetry.TagJobWorldSize, j.WorldSize, 0)
	count(telemetry.TagJobNodeRank, j.NodeRank, -1)
	count(telemetry.TagJobNodes, j.Nodes, 0)
	return t
}

// DetectJob returns the facts of the distributed job that environ (in
// os.Environ form) and args (the program graphsignal runs, args[0] first)
// show, or the zero Job. It reads nothing else: the host name is environ's
// HOSTNAME.
//
// graphsignal may run once per rank (`torchrun --no-python graphsignal run
// -- python train.py`, `srun graphsignal run -- …`, `mpirun graphsignal run
// -- …`), where the launcher's per-rank variables give the rank facts, or
// wrap torchrun once per node (`graphsignal run -- torchrun --nnodes=2 …`,
// or `python -m torch.distributed.run`), where the ranks are the children's
// and only node facts are known: torchrun's options (--nnodes, --node-rank,
// --rdzv-id, --nproc-per-node, with '_' or '-', as --x=v or --x v) and the
// PET_<OPTION> variables it reads in their place.
//
// The id is that of the outermost system, which covers every node and rank
// of the job: the Slurm job, then the Kubernetes job, then torchrun's
// rendezvous id, then the MPI job. The rank facts come from the innermost
// launcher that knows them: torchrun's worker variables, then MPI's, then
// those of a Slurm step (srun), then a Kubeflow PyTorchJob's.
//
// Slurm (SLURM_JOB_ID or SLURM_JOBID): the id is the job id, unique within
// SLURM_CLUSTER_NAME. A task of a job array is its own job, and so its own
// session: array tasks are independent runs that start and fail apart; the
// array is in ArrayJobID. A requeued job keeps its id, and so its session, as
// does every srun step of one job. SLURM_PROCID, SLURM_LOCALID and
// SLURM_STEP_NUM_TASKS (or SLURM_NTASKS) are ranks only within a step
// (SLURM_STEP_ID set): a batch script's own process is no rank. Nodes is the
// job's SLURM_JOB_NUM_NODES (or SLURM_NNODES), NodeRank SLURM_NODEID, except
// for MPI ranks that mpirun started: their Slurm variables are those of
// mpirun's daemons' step, whose node ids are not the job's.
//
// Kubernetes (KUBERNETES_SERVICE_HOST) is a job when the pod belongs to a
// JobSet (JOBSET_NAME, which JobSet sets), an Indexed Job (JOB_COMPLETION_INDEX,
// with the job's name from the pod's host name "<job>-<index>", or its name
// "<job>-<index>-<suffix>"), or a Kubeflow PyTorchJob (host name
// "<job>-master-<n>" or "<job>-worker-<n>", with MASTER_ADDR naming the same
// job's "<job>-master-0" or "<job>-worker-0"). A pod of none of these is no
// job. The Downward API variables read, where the pod spec maps them, are
// POD_NAMESPACE (metadata.namespace), POD_NAME (metadata.name), NODE_NAME
// (spec.nodeName), JOB_UID (the Job's uid, from
// metadata.labels['batch.kubernetes.io/controller-uid']) and, for a JobSet,
// JOBSET_UID (any value unique to the JobSet; JOB_UID there names one of its
// Jobs, so it is not read). Without a uid the id is the job's name: a job
// re-created under the same name in the same namespace joins the old
// session. PET_NODE_RANK and PET_NNODES, which the training operators set,
// give the node facts; a PyTorchJob's RANK and WORLD_SIZE are ranks only
// with one process per pod (PET_NPROC_PER_NODE unset or 1).
//
// torchrun: the id is the rendezvous id (TORCHELASTIC_RUN_ID for a worker,
// --rdzv-id or PET_RDZV_ID for torchrun itself). torchrun's default id is the
// literal "none", which is no id: MASTER_ADDR and MASTER_PORT are the same
// for every later job started the same way (29500 by default), so a session
// made of them would gather unrelated jobs over days. Such ranks outside
// Slurm and Kubernetes carry their tags and each has its own session, unless
// torchrun is given --rdzv-id or --standalone (which makes a fresh id).
//
// MPI: ranks from OMPI_COMM_WORLD_RANK, _LOCAL_RANK and _SIZE (Open MPI),
// else PMIX_RANK, else PMI_RANK and PMI_SIZE (MPICH and Intel MPI's Hydra),
// with MPI_LOCALRANKID. OMPI_COMM_WORLD_NODE_RANK is not a node index (it
// counts processes on the node across jobs) and is not read. The id is
// PMIX_NAMESPACE, unique per job for Open MPI 5 ("prterun-<host>-<pid>@1")
// and Slurm's PMIx plugin; a namespace of digits only (Open MPI 4's job id,
// like OMPI_MCA_ess_base_jobid) is not used, as its job family is a 16-bit
// hash of mpirun's host and pid that repeats across jobs. Hydra exports no
// job id. Without an id, MPI ranks carry their tags but no shared session.
//
// Ray is not detected: no variable that Ray sets is known to name the job
// in every process of it.
func DetectJob(environ, args []string) Job {
	get := func(k string) string { return strings.TrimSpace(Get(environ, k)) }
	slurm, k8s := slurmJob(get), kubernetesJob(get)
	torch, mpi := torchrunWorker(get), mpiJob(get)
	if agent, wraps := torchrunAgent(args, get); wraps {
		// The ranks are torchrun's children's; the rank variables of Slurm
		// and Kubernetes describe this process, one per node.
		torch, mpi = agent, Job{}
		slurm.Rank, slurm.LocalRank, slurm.WorldSize = -1, -1, 0
		k8s.Rank, k8s.LocalRank, k8s.WorldSize = -1, -1, 0
	}

	var j Job
	for _, s := range []Job{slurm, k8s, torch, mpi} {
		if s.Launcher != "" && s.ID != "" {
			j = Job{Launcher: s.Launcher, ID: s.ID, Scope: s.Scope, Name: s.Name}
			break
		}
	}
	j.Rank, j.LocalRank, j.NodeRank = -1, -1, -1
	for _, s := range []Job{torch, mpi, slurm, k8s} {
		if s.Launcher != "" && (s.Rank >= 0 || s.WorldSize > 0) {
			j.Rank, j.LocalRank, j.WorldSize = s.Rank, s.LocalRank, s.WorldSize
			if s.Launcher == LauncherMPI && slurm.Launcher != "" {
				j = mpiUnderSlurm(j, slurm)
				slurm.NodeRank = j.NodeRank // -1 where mpirun started the ranks
			}
			break
		}
	}
	for _, s := range []Job{torch, mpi, slurm, k8s} {
		if s.Launcher == "" {
			continue
		}
		if j.Launcher == "" {
			j.Launcher = s.Launcher
		}
		if j.NodeRank < 0 {
			j.NodeRank = s.NodeRank
		}
		if j.Nodes == 0 {
			j.Nodes = s.Nodes
		}
		if j.Name == "" {
			j.Name = s.Name
		}
	}
	if j.Launcher == "" {
		return Job{}
	}
	j.Node = firstOf(slurm.Node, k8s.Node) // a pod's node even where the pod is no job
	j.ArrayJobID, j.ArrayTaskID = slurm.ArrayJobID, slurm.ArrayTaskID
	return j
}

// mpiUnderSlurm returns j, an MPI rank's facts, with those of the Slurm
// step that started it where srun started the ranks itself (its task is the
// MPI rank); and with NodeRank unknown where mpirun started them, as
// SLURM_NODEID then counts the nodes of mpirun's daemons' step.
func mpiUnderSlurm(j, slurm Job) Job {
	if slurm.Rank != j.Rank || j.WorldSize > 0 && slurm.WorldSize != j.WorldSize {
		j.NodeRank = -1
		return j
	}
	if j.LocalRank < 0 {
		j.LocalRank = slurm.LocalRank
	}
	if j.WorldSize == 0 {
		j.WorldSize = slurm.WorldSize
	}
	j.NodeRank = slurm.NodeRank
	return j
}

// slurmJob returns the facts of a Slurm job: https://slurm.schedmd.com/sbatch.html#SECTION_OUTPUT-ENVIRONMENT-VARIABLES
// and https://slurm.schedmd.com/srun.html#SECTION_OUTPUT-ENVIRONMENT-VARIABLES.
func slurmJob(get func(string) string) Job {
	id := firstOf(get("SLURM_JOB_ID"), get("SLURM_JOBID"))
	if id == "" {
		return Job{}
	}
	j := unknownJob(LauncherSlurm)
	j.ID, j.Scope, j.Name = id, get("SLURM_CLUSTER_NAME"), get("SLURM_JOB_NAME")
	j.Node = get("SLURMD_NODENAME")
	j.ArrayJobID, j.ArrayTaskID = get("SLURM_ARRAY_JOB_ID"), get("SLURM_ARRAY_TASK_ID")
	j.NodeRank = index(get("SLURM_NODEID"))
	j.Nodes = atoi(firstOf(get("SLURM_JOB_NUM_NODES"), get("SLURM_NNODES")))
	if firstOf(get("SLURM_STEP_ID"), get("SLURM_STEPID")) != "" {
		j.Rank, j.LocalRank = index(get("SLURM_PROCID")), index(get("SLURM_LOCALID"))
		j.WorldSize = atoi(firstOf(get("SLURM_STEP_NUM_TASKS"), get("SLURM_NTASKS")))
	}
	return j
}

// kubernetesJob returns the facts of a pod's job (see DetectJob); for a pod
// of no job, only Node.
func kubernetesJob(get func(string) string) Job {
	if get("KUBERNETES_SERVICE_HOST") == "" {
		return Job{}
	}
	host, pod := get("HOSTNAME"), firstOf(get("POD_NAME"), get("HOSTNAME"))
	node := firstOf(get("NODE_NAME"), pod)
	j := unknownJob(LauncherKubernetes)
	j.Scope, j.Node = get("POD_NAMESPACE"), node
	j.NodeRank, j.Nodes = index(get("PET_NODE_RANK")), atoi(get("PET_NNODES"))
	completion := index(get("JOB_COMPLETION_INDEX"))
	switch {
	case get("JOBSET_NAME") != "":
		j.Name = get("JOBSET_NAME")
		j.ID = firstOf(get("JOBSET_UID"), j.Name)
		return j
	case completion >= 0:
		j.Name = firstOf(indexedJobName(host, completion), indexedJobName(pod, completion))
		if j.NodeRank < 0 {
			j.NodeRank = completion
		}
	default:
		j.Name = pytorchJobName(host, get("MASTER_ADDR"))
		if j.Name == "" {
			return Job{Node: node}
		}
		if nproc := get("PET_NPROC_PER_NODE"); nproc == "" || nproc == "1" {
			j.Rank, j.LocalRank = index(get("RANK")), index(get("LOCAL_RANK"))
			j.WorldSize = atoi(get("WORLD_SIZE"))
		}
	}
	if j.Name != "" {
		j.ID = firstOf(get("JOB_UID"), j.Name)
	}
	return j
}

// indexedJobName returns the job's name from the host name of an Indexed
// Job's pod, "<job>-<index>", or its pod name, "<job>-<index>-<suffix>",
// or "" when name is neither.
func indexedJobName(name string, completion int) string {
	suffix := "-" + strconv.Itoa(completion)
	if i := strings.LastIndexByte(name, '-'); i > 0 && !strings.HasSuffix(name, suffix) {
		name = name[:i]
	}
	if job, ok := strings.CutSuffix(name, suffix); ok && job != "" {
		return job
	}
	return ""
}

// pytorchJobName returns the name of the Kubeflow PyTorchJob whose pod has
// host name "<job>-master-<n>" or "<job>-worker-<n>" and whose MASTER_ADDR
// (up to its first '.') is that job's "<job>-master-0" or "<job>-worker-0",
// or "".
func pytorchJobName(host, masterAddr string) string {
	i := strings.LastIndexByte(host, '-')
	if i < 0 || index(host[i+1:]) < 0 {
		return ""
	}
	master, _, _ := strings.Cut(masterAddr, ".")
	for _, role := range []string{"-master", "-worker"} {
		if job, ok := strings.CutSuffix(host[:i], role); ok && job != "" &&
			(master == job+"-master-0" || master == job+"-worker-0") {
			return job
		}
	}
	return ""
}

// torchrunWorker returns the facts of a rank that torchrun started:
// https://pytorch.org/docs/stable/elastic/run.html#environment-variables.
func torchrunWorker(get func(string) string) Job {
	runID := get("TORCHELASTIC_RUN_ID")
	if runID == "" {
		return Job{}
	}
	j := unknownJob(LauncherTorchrun)
	if runID != "none" {
		j.ID = runID
	}
	j.Rank, j.LocalRank = index(get("RANK")), index(get("LOCAL_RANK"))
	j.WorldSize = atoi(get("WORLD_SIZE"))
	j.NodeRank, j.Nodes = index(get("GROUP_RANK")), atoi(get("GROUP_WORLD_SIZE"))
	return j
}

// mpiJob returns the facts of an MPI rank (see DetectJob).
func mpiJob(get func(string) string) Job {
	j := unknownJob(LauncherMPI)
	switch {
	case get("OMPI_COMM_WORLD_RANK") != "":
		j.Rank, j.LocalRank = index(get("OMPI_COMM_WORLD_RANK")), index(get("OMPI_COMM_WORLD_LOCAL_RANK"))
		j.WorldSize = atoi(get("OMPI_COMM_WORLD_SIZE"))
	case get("PMIX_RANK") != "":
		j.Rank = index(get("PMIX_RANK"))
	case get("PMI_RANK") != "":
		j.Rank, j.WorldSize = index(get("PMI_RANK")), atoi(get("PMI_SIZE"))
	default:
		return Job{}
	}
	if j.LocalRank < 0 {
		j.LocalRank = index(get("MPI_LOCALRANKID"))
	}
	if ns := get("PMIX_NAMESPACE"); strings.Trim(ns, "0123456789") != "" {
		j.ID = ns
	}
	return j
}

// torchrunAgent returns the node facts of torchrun when args run it, and
// whether they do. Options override the PET_<OPTION> variables, as in
// torchrun; its defaults are --nnodes=1 and --nproc-per-node=1. A range of
// nodes ("1:4") is unknown unless both ends agree; --nproc-per-node of
// "gpu", "auto" and the like leaves the world size unknown. torchrun makes a
// fresh rendezvous id for --standalone, which is not ours to know.
func torchrunAgent(args []string, get func(string) string) (Job, bool) {
	opts, ok := torchrunOptions(args)
	if !ok {
		return Job{}, false
	}
	opt := func(name string) string {
		if v, ok := opts[name]; ok {
			return strings.TrimSpace(v)
		}
		return get("PET_" + strings.ToUpper(name))
	}
	j := unknownJob(LauncherTorchrun)
	if _, standalone := opts["standalone"]; !standalone && opt("rdzv_id") != "none" {
		j.ID = opt("rdzv_id")
	}
	nnodes := firstOf(opt("nnodes"), "1")
	if lo, hi, ok := strings.Cut(nnodes, ":"); !ok || lo == hi {
		j.Nodes = atoi(lo)
	}
	j.NodeRank = index(opt("node_rank"))
	if j.Nodes == 1 {
		j.NodeRank = 0
	}
	if nproc := atoi(firstOf(opt("nproc_per_node"), "1")); j.Nodes > 0 && nproc > 0 {
		j.WorldSize = j.Nodes * nproc
	}
	return j, true
}

// torchrunFlag reports whether torchrun's option name (with '-' as '_')
// takes no value.
func torchrunFlag(name string) bool {
	switch name {
	case "standalone", "no_python", "module", "m", "run_path", "virtual_local_rank", "use_env":
		return true
	}
	return false
}

// torchrunOptions returns the options of a torchrun command line, keyed by
// name without leading dashes and with '-' as '_' (a flag's value is ""),
// and whether args runs torchrun: argv[0] named torchrun, or Python with
// -m torch.distributed.run or -m torch.distributed.launch. Options end at
// the first argument that is not one, the training script.
func torchrunOptions(args []string) (map[string]string, bool) {
	if len(args) == 0 {
		return nil, false
	}
	rest, ok := args[1:], filepath.Base(args[0]) == "torchrun"
	if strings.HasPrefix(filepath.Base(args[0]), "python") {
		rest, ok = pythonModuleArgs(args[1:], "torch.distributed.run", "torch.distributed.launch")
	}
	if !ok {
		return nil, false
	}
	opts := map[string]string{}
	for i := 0; i < len(rest) && strings.HasPrefix(rest[i], "-") && rest[i] != "--"; i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(rest[i], "-"), "=")
		name = strings.ReplaceAll(name, "-", "_")
		if !hasValue && !torchrunFlag(name) && i+1 < len(rest) {
			i++
			value = rest[i]
		}
		opts[name] = value
	}
	return opts, true
}

// pythonModuleArgs returns the arguments after "-m <module>" of a Python
// command line (args without argv[0]) when module is one of modules.
func pythonModuleArgs(args []string, modules ...string) ([]string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		var module string
		switch {
		case a == "-m" && i+1 < len(args):
			module, i = args[i+1], i+1
		case strings.HasPrefix(a, "-m"):
			module = a[2:]
		case a == "-W" || a == "-X":
			i++ // the option's value
			continue
		case strings.HasPrefix(a, "-") && a != "-" && a != "--" && a != "-c":
			continue
		default:
			return nil, false // a script, "-c", "-" or "--"
		}
		for _, m := range modules {
			if module == m {
				return args[i+1:], true
			}
		}
		return nil, false
	}
	return nil, false
}

// unknownJob returns a Job of launcher with every number unknown.
func unknownJob(launcher string) Job {
	return Job{Launcher: launcher, Rank: -1, LocalRank: -1, NodeRank: -1}
}

// index returns s as a non-negative decimal number, or -1.
func index(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}
