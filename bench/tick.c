/* A service that exits at once, leaving one byte in FILE to count its runs. */
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int fd = argc > 1 ? open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644) : -1;
	if (fd >= 0)
		(void)!write(fd, "x", 1);
	return 0;
}
