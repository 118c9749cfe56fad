#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include "CFileShims.h"

int hm_start_writeback(int fd, long long offset, long long length) {
#ifdef SYNC_FILE_RANGE_WRITE
    return sync_file_range(fd, (off_t)offset, (off_t)length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}

int hm_open_direct(const char *path) {
#ifdef O_DIRECT
    return open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
#else
    (void)path;
    errno = EINVAL;
    return -1;
#endif
}
