/* page-touch.c [FILE]: what a first touch of a page costs on this machine,
 * the figures behind BENCHMARKS.md "Method" (page faults). Prints, per page:
 * a fresh anonymous page written; a file's cached pages read (FILE, default
 * /proc/self/exe; a read fault maps up to 16 cached pages, so it is timed per
 * fault, one read every 64 KiB); the same after MADV_POPULATE_READ (Linux
 * 5.14+); an anonymous page written after MADV_POPULATE_WRITE. Build and run:
 * cc -O2 -o /tmp/page-touch bench/page-touch.c && /tmp/page-touch bin/graphsignal */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static double now_us(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
	const size_t page = 4096, anon = 1024 * page;
	volatile char sink = 0;

	char *a = mmap(NULL, anon, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(a, anon, MADV_NOHUGEPAGE);
	double t = now_us();
	for (size_t i = 0; i < anon; i += page) a[i] = 1;
	printf("fresh anonymous page, written:          %6.2f us per page\n", (now_us() - t) / 1024);

	char *w = mmap(NULL, anon, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(w, anon, MADV_NOHUGEPAGE);
	t = now_us();
	int rc = madvise(w, anon, MADV_POPULATE_WRITE);
	double pop = now_us() - t;
	t = now_us();
	for (size_t i = 0; i < anon; i += page) w[i] = 1;
	printf("MADV_POPULATE_WRITE (rc %d):             %6.2f us per page, then written %6.2f us per page\n",
	       rc, pop / 1024, (now_us() - t) / 1024);

	const char *path = argc > 1 ? argv[1] : "/proc/self/exe";
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < (off_t)page) {
		perror(path);
		return 1;
	}
	size_t size = st.st_size, faults = 0, pages = size / page;
	char *f = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	t = now_us();
	for (size_t i = 0; i < size; i += 16 * page, faults++) sink += f[i];
	printf("cached file page, read (fault-around):  %6.2f us per fault (%zu faults)\n", (now_us() - t) / faults, faults);

	char *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	t = now_us();
	rc = madvise(p, size, MADV_POPULATE_READ);
	pop = now_us() - t;
	t = now_us();
	for (size_t i = 0; i < pages; i++) sink += p[i * page];
	printf("MADV_POPULATE_READ (rc %d) of %zu pages: %6.0f us, then read %6.2f us per page\n",
	       rc, pages, pop, (now_us() - t) / pages);
	return 0;
}
