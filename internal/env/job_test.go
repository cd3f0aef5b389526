package env

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/graphsignal/graphsignal/internal/telemetry"
)

// job returns a Job of launcher with the numbers given and the rest unknown.
func job(launcher, id string, rank, localRank, worldSize, nodeRank, nodes int) Job {
	return Job{Launcher: launcher, ID: id, Rank: rank, LocalRank: localRank, WorldSize: worldSize,
		NodeRank: nodeRank, Nodes: nodes}
}

// with returns j with the strings of fields set ("Scope", "Name", "Node",
// "ArrayJobID", "ArrayTaskID"), pairwise.
func with(j Job, fields ...string) Job {
	for i := 0; i+1 < len(fields); i += 2 {
		v := fields[i+1]
		switch fields[i] {
		case "Scope":
			j.Scope = v
		case "Name":
			j.Name = v
		case "Node":
			j.Node = v
		case "ArrayJobID":
			j.ArrayJobID = v
		case "ArrayTaskID":
			j.ArrayTaskID = v
		default:
			panic("with: no field " + fields[i])
		}
	}
	return j
}

var (
	slurmStep = []string{ // srun, rank 9 of 16 on the second of 2 nodes
		"SLURM_JOB_ID=4242", "SLURM_JOBID=4242", "SLURM_STEP_ID=0", "SLURM_STEPID=0", "SLURM_PROCID=9",
		"SLURM_LOCALID=1", "SLURM_NTASKS=16", "SLURM_STEP_NUM_TASKS=16", "SLURM_NODEID=1",
		"SLURM_NNODES=2", "SLURM_JOB_NUM_NODES=2", "SLURMD_NODENAME=gpu-02", "SLURM_JOB_NAME=llama",
		"SLURM_CLUSTER_NAME=hpc1",
	}
	// srun with one task per node (torchrun's), on the second node.
	slurmNodeStep = []string{
		"SLURM_JOB_ID=4242", "SLURM_STEP_ID=1", "SLURM_PROCID=1", "SLURM_LOCALID=0", "SLURM_NTASKS=2",
		"SLURM_NODEID=1", "SLURM_NNODES=2", "SLURM_JOB_NUM_NODES=2", "SLURMD_NODENAME=gpu-02",
		"SLURM_JOB_NAME=llama", "SLURM_CLUSTER_NAME=hpc1",
	}
	torchWorker = []string{ // rank 12 of 16, local rank 4, node 1 of 2
		"TORCHELASTIC_RUN_ID=none", "RANK=12", "LOCAL_RANK=4", "WORLD_SIZE=16", "GROUP_RANK=1",
		"GROUP_WORLD_SIZE=2", "LOCAL_WORLD_SIZE=8", "ROLE_RANK=12", "MASTER_ADDR=gpu-01", "MASTER_PORT=29500",
		"TORCHELASTIC_RESTART_COUNT=0", "TORCHELASTIC_MAX_RESTARTS=0",
	}
	inPod = []string{"KUBERNETES_SERVICE_HOST=10.96.0.1", "KUBERNETES_SERVICE_PORT=443"}
)

// cat joins environments; where a name repeats, the first entry wins.
func cat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func TestDetectJob(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		args    []string
		want    Job
	}{
		{"not a job", []string{"HOME=/h", "PATH=/bin", "HOSTNAME=laptop"}, []string{"python", "train.py"}, Job{}},
		{"pod of no job", cat(inPod, []string{"HOSTNAME=web-5d8f-x2x9z", "POD_NAMESPACE=prod"}), nil, Job{}},
		{"plain script with PET variables", []string{"PET_NNODES=2", "PET_RDZV_ID=x"}, []string{"python", "train.py"}, Job{}},
		{"bare RANK outside any launcher", []string{"RANK=3", "WORLD_SIZE=4", "MASTER_ADDR=h"}, nil, Job{}},

		// torchrun per rank
		{"torchrun rank with rdzv id", cat([]string{"TORCHELASTIC_RUN_ID=exp7"}, torchWorker),
			[]string{"python", "train.py"}, job(LauncherTorchrun, "exp7", 12, 4, 16, 1, 2)},
		{"torchrun rank with rdzv id none", torchWorker, nil, job(LauncherTorchrun, "", 12, 4, 16, 1, 2)},
		{"torchrun standalone rank", []string{
			"TORCHELASTIC_RUN_ID=0b6a3c1e-8d1f-4c1e-9a4e-2f7d3b5c6a10", "RANK=3", "LOCAL_RANK=3", "WORLD_SIZE=8",
			"GROUP_RANK=0", "GROUP_WORLD_SIZE=1",
		}, nil, job(LauncherTorchrun, "0b6a3c1e-8d1f-4c1e-9a4e-2f7d3b5c6a10", 3, 3, 8, 0, 1)},

		// Slurm
		{"srun rank", slurmStep, []string{"python", "train.py"},
			with(job(LauncherSlurm, "4242", 9, 1, 16, 1, 2), "Scope", "hpc1", "Name", "llama", "Node", "gpu-02")},
		{"batch script is no rank", []string{
			"SLURM_JOB_ID=4243", "SLURM_PROCID=0", "SLURM_LOCALID=0", "SLURM_NODEID=0", "SLURM_NNODES=4",
			"SLURM_JOB_NUM_NODES=4", "SLURM_NTASKS=32", "SLURMD_NODENAME=gpu-01",
		}, []string{"python", "train.py"}, with(job(LauncherSlurm, "4243", -1, -1, 0, 0, 4), "Node", "gpu-01")},
		{"old SLURM_JOBID only", []string{"SLURM_JOBID=17", "SLURM_NNODES=1"}, nil, job(LauncherSlurm, "17", -1, -1, 0, -1, 1)},
		{"array task", []string{
			"SLURM_JOB_ID=5003", "SLURM_ARRAY_JOB_ID=5000", "SLURM_ARRAY_TASK_ID=3", "SLURM_JOB_NAME=sweep",
			"SLURM_CLUSTER_NAME=hpc1", "SLURM_NODEID=0", "SLURM_JOB_NUM_NODES=1",
		}, nil, with(job(LauncherSlurm, "5003", -1, -1, 0, 0, 1), "Scope", "hpc1", "Name", "sweep",
			"ArrayJobID", "5000", "ArrayTaskID", "3")},
		{"torchrun rank under srun", cat(torchWorker, slurmNodeStep), nil,
			with(job(LauncherSlurm, "4242", 12, 4, 16, 1, 2), "Scope", "hpc1", "Name", "llama", "Node", "gpu-02")},
		{"wrapping torchrun under srun", slurmNodeStep,
			[]string{"torchrun", "--nnodes=2", "--nproc-per-node", "8", "--node_rank=1", "--rdzv-id=abc", "train.py", "--nnodes", "5"},
			with(job(LauncherSlurm, "4242", -1, -1, 16, 1, 2), "Scope", "hpc1", "Name", "llama", "Node", "gpu-02")},
		{"wrapping torchrun with c10d under srun: node from Slurm", slurmNodeStep,
			[]string{"/opt/venv/bin/torchrun", "--nnodes", "2", "--nproc_per_node=gpu", "--rdzv_backend=c10d", "train.py"},
			with(job(LauncherSlurm, "4242", -1, -1, 0, 1, 2), "Scope", "hpc1", "Name", "llama", "Node", "gpu-02")},

		// MPI
		{"mpirun rank (Open MPI 5)", []string{
			"OMPI_COMM_WORLD_RANK=5", "OMPI_COMM_WORLD_LOCAL_RANK=1", "OMPI_COMM_WORLD_SIZE=8",
			"OMPI_COMM_WORLD_NODE_RANK=1", "PMIX_RANK=5", "PMIX_NAMESPACE=prterun-login1-81234@1",
		}, nil, job(LauncherMPI, "prterun-login1-81234@1", 5, 1, 8, -1, 0)},
		{"mpirun rank (Open MPI 4): numeric namespace is no id", []string{
			"OMPI_COMM_WORLD_RANK=5", "OMPI_COMM_WORLD_LOCAL_RANK=1", "OMPI_COMM_WORLD_SIZE=8",
			"PMIX_RANK=5", "PMIX_NAMESPACE=3456106497", "OMPI_MCA_ess_base_jobid=3456106497",
		}, nil, job(LauncherMPI, "", 5, 1, 8, -1, 0)},
		{"hydra rank", []string{"PMI_RANK=2", "PMI_SIZE=4", "PMI_FD=7", "MPI_LOCALRANKID=0", "MPI_LOCALNRANKS=2"},
			nil, job(LauncherMPI, "", 2, 0, 4, -1, 0)},
		{"mpirun under Slurm on a daemon's node", []string{
			"OMPI_COMM_WORLD_RANK=11", "OMPI_COMM_WORLD_LOCAL_RANK=3", "OMPI_COMM_WORLD_SIZE=16",
			"PMIX_NAMESPACE=prterun-gpu-01-5555@1",
			"SLURM_JOB_ID=77", "SLURM_STEP_ID=0", "SLURM_PROCID=0", "SLURM_LOCALID=0", "SLURM_NTASKS=1",
			"SLURM_NODEID=0", "SLURM_NNODES=1", "SLURM_JOB_NUM_NODES=2", "SLURMD_NODENAME=gpu-02",
		}, nil, with(job(LauncherSlurm, "77", 11, 3, 16, -1, 2), "Node", "gpu-02")},
		{"mpirun under Slurm on mpirun's node", []string{
			"OMPI_COMM_WORLD_RANK=0", "OMPI_COMM_WORLD_LOCAL_RANK=0", "OMPI_COMM_WORLD_SIZE=16",
			"SLURM_JOB_ID=77", "SLURM_PROCID=0", "SLURM_NODEID=0", "SLURM_JOB_NUM_NODES=2", "SLURMD_NODENAME=gpu-01",
		}, nil, with(job(LauncherSlurm, "77", 0, 0, 16, -1, 2), "Node", "gpu-01")},
		{"srun --mpi=pmix rank", []string{
			"PMIX_RANK=6", "PMIX_NAMESPACE=slurm.pmix.77.0",
			"SLURM_JOB_ID=77", "SLURM_STEP_ID=0", "SLURM_PROCID=6", "SLURM_LOCALID=2", "SLURM_NTASKS=8",
			"SLURM_NODEID=1", "SLURM_JOB_NUM_NODES=2", "SLURMD_NODENAME=gpu-02",
		}, nil, with(job(LauncherSlurm, "77", 6, 2, 8, 1, 2), "Node", "gpu-02")},

		// Kubernetes
		{"indexed job pod", cat(inPod, []string{
			"JOB_COMPLETION_INDEX=2", "HOSTNAME=train-2", "POD_NAME=train-2-x7k2p", "POD_NAMESPACE=ml", "NODE_NAME=gke-a",
		}), nil, with(job(LauncherKubernetes, "train", -1, -1, 0, 2, 0), "Scope", "ml", "Name", "train", "Node", "gke-a")},
		{"indexed job pod by its name, with uid", cat(inPod, []string{
			"JOB_COMPLETION_INDEX=10", "HOSTNAME=my-job-10-ab3cd", "JOB_UID=1f0b7a52-3c1e-4a8e-b1b2-0d9e8f7a6b5c",
		}), nil, with(job(LauncherKubernetes, "1f0b7a52-3c1e-4a8e-b1b2-0d9e8f7a6b5c", -1, -1, 0, 10, 0),
			"Name", "my-job", "Node", "my-job-10-ab3cd")},
		{"indexed job pod with an unknown host name", cat(inPod, []string{"JOB_COMPLETION_INDEX=1", "HOSTNAME=custom"}),
			nil, with(job(LauncherKubernetes, "", -1, -1, 0, 1, 0), "Node", "custom")},
		{"jobset pod", cat(inPod, []string{
			"JOBSET_NAME=pretrain", "REPLICATED_JOB_NAME=workers", "JOB_INDEX=1", "JOB_COMPLETION_INDEX=3",
			"HOSTNAME=pretrain-workers-1-3", "POD_NAMESPACE=ml", "JOB_UID=child-job-uid", "PET_NODE_RANK=7", "PET_NNODES=8",
		}), nil, with(job(LauncherKubernetes, "pretrain", -1, -1, 0, 7, 8), "Scope", "ml", "Name", "pretrain",
			"Node", "pretrain-workers-1-3")},
		{"pytorchjob master", cat(inPod, []string{
			"HOSTNAME=bert-master-0", "MASTER_ADDR=bert-master-0", "MASTER_PORT=23456", "RANK=0", "WORLD_SIZE=3",
			"POD_NAMESPACE=team",
		}), nil, with(job(LauncherKubernetes, "bert", 0, -1, 3, -1, 0), "Scope", "team", "Name", "bert", "Node", "bert-master-0")},
		{"pytorchjob worker", cat(inPod, []string{
			"HOSTNAME=bert-worker-1", "MASTER_ADDR=bert-master-0.team.svc", "RANK=2", "WORLD_SIZE=3",
		}), nil, with(job(LauncherKubernetes, "bert", 2, -1, 3, -1, 0), "Name", "bert", "Node", "bert-worker-1")},
		{"pytorchjob look-alike whose master is another job's", cat(inPod, []string{
			"HOSTNAME=bert-worker-1", "MASTER_ADDR=gpt-master-0", "RANK=2", "WORLD_SIZE=3",
		}), nil, Job{}},
		{"torchrun rank in a pytorchjob", cat(inPod, []string{
			"HOSTNAME=bert-worker-0", "MASTER_ADDR=bert-master-0", "PET_NNODES=2", "PET_NODE_RANK=1", "PET_NPROC_PER_NODE=8",
		}, torchWorker), nil, with(job(LauncherKubernetes, "bert", 12, 4, 16, 1, 2), "Name", "bert", "Node", "bert-worker-0")},
		{"wrapping torchrun in a pytorchjob", cat(inPod, []string{
			"HOSTNAME=bert-worker-0", "MASTER_ADDR=bert-master-0", "RANK=1", "WORLD_SIZE=8",
			"PET_NNODES=2", "PET_NODE_RANK=1", "PET_NPROC_PER_NODE=4",
		}), []string{"torchrun", "train.py"},
			with(job(LauncherKubernetes, "bert", -1, -1, 8, 1, 2), "Name", "bert", "Node", "bert-worker-0")},

		// wrapping torchrun
		{"wrapping torchrun", nil,
			[]string{"torchrun", "--nnodes", "2", "--node-rank=0", "--rdzv-id", "abc", "--master_addr=10.0.0.1", "train.py"},
			job(LauncherTorchrun, "abc", -1, -1, 2, 0, 2)},
		{"wrapping python -m torch.distributed.run, PET variables", []string{"PET_RDZV_ID=run9", "PET_NNODES=1:4", "PET_NODE_RANK=x"},
			[]string{"python3.11", "-u", "-X", "dev", "-m", "torch.distributed.run", "--nproc-per-node=4", "train.py"},
			job(LauncherTorchrun, "run9", -1, -1, 0, -1, 0)},
		{"wrapping torch.distributed.launch, options over PET variables", []string{"PET_NNODES=8", "PET_NODE_RANK=7"},
			[]string{"python", "-mtorch.distributed.launch", "--use_env", "--nnodes=3:3", "--node_rank", "2", "--nproc_per_node", "2", "t.py"},
			job(LauncherTorchrun, "", -1, -1, 6, 2, 3)},
		{"wrapping torchrun standalone", nil, []string{"torchrun", "--standalone", "--rdzv-id=mine", "--nproc-per-node=gpu", "t.py"},
			job(LauncherTorchrun, "", -1, -1, 0, 0, 1)},
		{"torchrun options end at the script", nil, []string{"torchrun", "train.py", "--nnodes=4", "--rdzv-id=x"},
			job(LauncherTorchrun, "", -1, -1, 1, 0, 1)},
		{"wrapping torchrun with rdzv id none", nil, []string{"torchrun", "--rdzv_id=none", "--nnodes=2", "t.py"},
			job(LauncherTorchrun, "", -1, -1, 2, -1, 2)},
		{"python -c is not torchrun", []string{"PET_NNODES=2"}, []string{"python", "-c", "import torch.distributed.run"}, Job{}},

		// garbage
		{"garbage numbers", []string{
			"TORCHELASTIC_RUN_ID=x", "RANK=-3", "LOCAL_RANK=abc", "WORLD_SIZE=1e3", "GROUP_RANK=99999999999999999999",
			"GROUP_WORLD_SIZE=-2",
		}, nil, job(LauncherTorchrun, "x", -1, -1, 0, -1, 0)},
		{"blank values", []string{"SLURM_JOB_ID=  ", "TORCHELASTIC_RUN_ID=", "OMPI_COMM_WORLD_RANK= "}, nil, Job{}},
		{"entries without =", []string{"SLURM_JOB_ID", "=", "RANK"}, []string{""}, Job{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DetectJob(tt.environ, tt.args)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DetectJob(%q, %q) mismatch (-want +got):\n%s", tt.environ, tt.args, diff)
			}
		})
	}
}

func TestJobSessionID(t *testing.T) {
	tests := []struct {
		name string
		job  Job
		want string
	}{
		{"not a job", Job{}, ""},
		{"no id", job(LauncherTorchrun, "", 1, 1, 2, 0, 1), ""},
		{"slurm on a cluster", with(job(LauncherSlurm, "4242", 0, 0, 1, 0, 1), "Scope", "hpc1", "Name", "llama"), "slurm-hpc1-4242"},
		{"slurm without a cluster name", job(LauncherSlurm, "4242", -1, -1, 0, -1, 0), "slurm-4242"},
		{"kubernetes with uid", with(job(LauncherKubernetes, "1f0b7a52-3c1e", -1, -1, 0, 0, 0), "Scope", "ml", "Name", "train"),
			"k8s-ml-train-1f0b7a52-3c1e"},
		{"kubernetes by name", with(job(LauncherKubernetes, "train", -1, -1, 0, 0, 0), "Scope", "ml", "Name", "train"), "k8s-ml-train"},
		{"kubernetes without namespace", with(job(LauncherKubernetes, "train", -1, -1, 0, 0, 0), "Name", "train"), "k8s-train"},
		{"torchrun", job(LauncherTorchrun, "exp7", 0, 0, 1, 0, 1), "torchrun-exp7"},
		{"mpi namespace sanitised", job(LauncherMPI, "prterun-login1-81234@1", 0, 0, 1, -1, 0), "mpi-prterun-login1-81234-1"},
		{"runs of odd bytes become one dash", job(LauncherTorchrun, " a//b  c,d=e\tf\x00g\u00e9h ", 0, 0, 1, 0, 1), "torchrun-a-b-c-d-e-f-g-h"},
		{"nothing left", job(LauncherTorchrun, "@@ //", 0, 0, 1, 0, 1), ""},
		{"odd scope dropped", with(job(LauncherSlurm, "1", 0, 0, 1, 0, 1), "Scope", "///"), "slurm-1"},
		{"long id cut", job(LauncherTorchrun, strings.Repeat("x", 300), 0, 0, 1, 0, 1), "torchrun-" + strings.Repeat("x", 128)},
	}
	for _, tt := range tests {
		if got := tt.job.SessionID(); got != tt.want {
			t.Errorf("%s: %+v.SessionID() = %q, want %q", tt.name, tt.job, got, tt.want)
		}
	}
}

func TestJobTags(t *testing.T) {
	tests := []struct {
		name string
		job  Job
		want telemetry.Tags
	}{
		{"not a job", Job{}, nil},
		{"all known", with(job(LauncherSlurm, "5003", 9, 1, 16, 1, 2), "Scope", "hpc1", "Name", "sweep, v2",
			"Node", "gpu-02", "ArrayJobID", "5000", "ArrayTaskID", "3"), telemetry.Tags{
			"job_launcher": "slurm", "job_id": "5003", "job_name": "sweep; v2", "job_rank": "9", "job_local_rank": "1",
			"job_world_size": "16", "job_node_rank": "1", "job_nodes": "2", "job_node": "gpu-02",
			"job_array_id": "5000", "job_array_task_id": "3",
		}},
		{"only what is known", job(LauncherTorchrun, "", -1, -1, 0, -1, 0), telemetry.Tags{"job_launcher": "torchrun"}},
		{"rank 0 is known", job(LauncherMPI, "", 0, 0, 1, 0, 1), telemetry.Tags{
			"job_launcher": "mpi", "job_rank": "0", "job_local_rank": "0", "job_world_size": "1",
			"job_node_rank": "0", "job_nodes": "1",
		}},
	}
	for _, tt := range tests {
		got := tt.job.Tags()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: %+v.Tags() mismatch (-want +got):\n%s", tt.name, tt.job, diff)
		}
	}
}

// rankEnvirons returns the environment of every rank of a job of nodes
// nodes with perNode ranks each, given base and the variables of one rank.
func rankEnvirons(nodes, perNode int, base []string, rankVars func(rank, localRank, node int) []string) [][]string {
	var out [][]string
	for n := range nodes {
		for l := range perNode {
			out = append(out, cat(base, rankVars(n*perNode+l, l, n)))
		}
	}
	return out
}

// TestJobRanksShareSession checks that the ranks of one job share its
// session id and tell themselves apart by their rank tags, and that another
// job of the same shape gets another session.
func TestJobRanksShareSession(t *testing.T) {
	itoa := strconv.Itoa
	torchrunUnderSlurm := func(jobID string) [][]string {
		return rankEnvirons(2, 4, []string{"SLURM_JOB_ID=" + jobID, "SLURM_CLUSTER_NAME=hpc1", "SLURM_STEP_ID=0", "SLURM_NTASKS=2",
			"TORCHELASTIC_RUN_ID=none", "WORLD_SIZE=8", "GROUP_WORLD_SIZE=2"},
			func(r, l, n int) []string {
				return []string{"SLURM_PROCID=" + itoa(n), "SLURM_NODEID=" + itoa(n), "SLURMD_NODENAME=gpu-" + itoa(n),
					"RANK=" + itoa(r), "LOCAL_RANK=" + itoa(l), "GROUP_RANK=" + itoa(n)}
			})
	}
	srun := func(jobID string) [][]string {
		return rankEnvirons(2, 2, []string{"SLURM_JOB_ID=" + jobID, "SLURM_STEP_ID=0", "SLURM_NTASKS=4"},
			func(r, l, n int) []string {
				return []string{"SLURM_PROCID=" + itoa(r), "SLURM_LOCALID=" + itoa(l), "SLURM_NODEID=" + itoa(n)}
			})
	}
	torchrun := func(rdzv string) [][]string {
		return rankEnvirons(2, 2, []string{"TORCHELASTIC_RUN_ID=" + rdzv, "WORLD_SIZE=4", "GROUP_WORLD_SIZE=2"},
			func(r, l, n int) []string {
				return []string{"RANK=" + itoa(r), "LOCAL_RANK=" + itoa(l), "GROUP_RANK=" + itoa(n)}
			})
	}
	mpirun := func(ns string) [][]string {
		return rankEnvirons(2, 2, []string{"PMIX_NAMESPACE=" + ns, "OMPI_COMM_WORLD_SIZE=4"},
			func(r, l, n int) []string {
				return []string{"OMPI_COMM_WORLD_RANK=" + itoa(r), "OMPI_COMM_WORLD_LOCAL_RANK=" + itoa(l)}
			})
	}
	indexedJob := func(job string) [][]string {
		return rankEnvirons(3, 1, cat(inPod, []string{"POD_NAMESPACE=ml"}),
			func(r, l, n int) []string {
				return []string{"JOB_COMPLETION_INDEX=" + itoa(n), "HOSTNAME=" + job + "-" + itoa(n)}
			})
	}
	pytorchJob := func(job string) [][]string {
		return rankEnvirons(3, 1, cat(inPod, []string{"MASTER_ADDR=" + job + "-master-0", "WORLD_SIZE=3"}),
			func(r, l, n int) []string {
				host := job + "-master-0"
				if r > 0 {
					host = job + "-worker-" + itoa(r-1)
				}
				return []string{"HOSTNAME=" + host, "RANK=" + itoa(r)}
			})
	}
	tests := []struct {
		name       string
		a, b       [][]string // the ranks of two jobs
		rankTag    string     // the tag that differs between ranks
		wantPrefix string
	}{
		{"torchrun under slurm", torchrunUnderSlurm("100"), torchrunUnderSlurm("101"), telemetry.TagJobRank, "slurm-hpc1-"},
		{"srun", srun("200"), srun("201"), telemetry.TagJobRank, "slurm-"},
		{"torchrun rdzv id", torchrun("a1"), torchrun("a2"), telemetry.TagJobRank, "torchrun-"},
		{"mpirun", mpirun("prterun-h-1@1"), mpirun("prterun-h-2@1"), telemetry.TagJobRank, "mpi-"},
		{"indexed job", indexedJob("train-a"), indexedJob("train-b"), telemetry.TagJobNodeRank, "k8s-ml-"},
		{"pytorchjob", pytorchJob("bert"), pytorchJob("gpt"), telemetry.TagJobRank, "k8s-"},
	}
	for _, tt := range tests {
		idA := DetectJob(tt.a[0], nil).SessionID()
		if !strings.HasPrefix(idA, tt.wantPrefix) {
			t.Errorf("%s: SessionID() = %q, want prefix %q", tt.name, idA, tt.wantPrefix)
		}
		seen := map[string]bool{}
		for _, environ := range tt.a {
			j := DetectJob(environ, nil)
			if id := j.SessionID(); id != idA {
				t.Errorf("%s: DetectJob(%q).SessionID() = %q, want %q as for the job's first rank", tt.name, environ, id, idA)
			}
			rank := j.Tags()[tt.rankTag]
			if rank == "" || seen[rank] {
				t.Errorf("%s: DetectJob(%q) tag %s = %q, want a rank of its own", tt.name, environ, tt.rankTag, rank)
			}
			seen[rank] = true
		}
		if idB := DetectJob(tt.b[0], nil).SessionID(); idB == idA {
			t.Errorf("%s: two jobs share the session id %q", tt.name, idA)
		}
	}
}

// validSessionID is what Job.SessionID may return besides "".
var validSessionID = regexp.MustCompile(`^[a-z0-9]+(-[A-Za-z0-9._]+)+$`)

func FuzzDetectJob(f *testing.F) {
	f.Add(strings.Join(cat(torchWorker, slurmNodeStep), "\n"), "python train.py")
	f.Add(strings.Join(slurmStep, "\n"), "torchrun --nnodes=2 --node_rank 1 --rdzv-id=a,b train.py")
	f.Add(strings.Join(cat(inPod, []string{"JOB_COMPLETION_INDEX=2", "HOSTNAME=train-2-abcde"}), "\n"), "")
	f.Add(strings.Join(cat(inPod, []string{"HOSTNAME=-master-0", "MASTER_ADDR=-master-0", "RANK=x"}), "\n"), "")
	f.Add("PMIX_RANK=1\nPMIX_NAMESPACE=@@\nSLURM_JOB_ID=,\nSLURM_CLUSTER_NAME=a=b", "python -m torch.distributed.run --nnodes 1:")
	f.Add("TORCHELASTIC_RUN_ID=\u00e9\u00e9\nRANK=99999999999999999999999", "python -m")
	f.Fuzz(func(t *testing.T, environ, args string) {
		env, argv := strings.Split(environ, "\n"), strings.Fields(args)
		j := DetectJob(env, argv)
		if again := DetectJob(env, argv); again != j {
			t.Fatalf("DetectJob not deterministic: %+v then %+v", j, again)
		}
		id := j.SessionID()
		if id != "" && (!validSessionID.MatchString(id) || len(id) > 20+3*maxSessionIDPart) {
			t.Errorf("SessionID() = %q, not a valid session id", id)
		}
		if j.ID == "" && id != "" {
			t.Errorf("SessionID() = %q without an ID", id)
		}
		if j.Rank < -1 || j.LocalRank < -1 || j.NodeRank < -1 || j.WorldSize < 0 || j.Nodes < 0 {
			t.Errorf("DetectJob = %+v, numbers out of range", j)
		}
		tags := j.Tags()
		if j.Launcher == "" && (j != Job{} || tags != nil) {
			t.Errorf("DetectJob = %+v with tags %v, want the zero Job without tags", j, tags)
		}
		back, err := ParseTagList(FormatTags(tags))
		if err != nil || len(tags) > 0 && !cmp.Equal(back, tags) {
			t.Errorf("tags %v do not survive GRAPHSIGNAL_TAGS: %v, %v", tags, back, err)
		}
	})
}
