/* The floor for cold start: posix_spawn N long-running processes back to back.
 *   floor_spawn N MARKER   -> prints seconds taken, then kills them */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 1000;
	char *args[] = {"sleep", argc > 2 ? argv[2] : "100000", NULL};
	pid_t *pids = calloc(n, sizeof(pid_t));
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		if (posix_spawnp(&pids[i], "sleep", NULL, NULL, args, environ) != 0)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
	for (int i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	return 0;
}
