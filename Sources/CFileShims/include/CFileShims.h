// Linux file calls that Glibc's Swift module does not expose (they need _GNU_SOURCE).
#ifndef HUBMIRROR_CFILESHIMS_H
#define HUBMIRROR_CFILESHIMS_H

/// Starts writeback of a byte range without waiting for it (sync_file_range with SYNC_FILE_RANGE_WRITE).
/// Returns 0, or -1 with errno set; a no-op returning 0 where the call does not exist.
int hm_start_writeback(int fd, long long offset, long long length);

#endif
