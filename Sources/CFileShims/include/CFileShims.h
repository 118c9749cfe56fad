// Linux file calls that Glibc's Swift module does not expose (they need _GNU_SOURCE).
#ifndef HUBMIRROR_CFILESHIMS_H
#define HUBMIRROR_CFILESHIMS_H

/// Starts writeback of a byte range without waiting for it (sync_file_range with SYNC_FILE_RANGE_WRITE).
/// Returns 0, or -1 with errno set; a no-op returning 0 where the call does not exist.
int hm_start_writeback(int fd, long long offset, long long length);

/// Opens an existing file for reading and writing with O_DIRECT (writes bypass the page cache).
/// Returns the descriptor, or -1 with errno set (EINVAL: the file system refuses O_DIRECT; also -1
/// with EINVAL where O_DIRECT does not exist).
int hm_open_direct(const char *path);

#endif
