/* Embedding FrozenSeg in C: segment one image file and print the panoptic segments. */
#include <stdio.h>
#include <frozenseg/frozenseg.h>

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s ARTIFACTS 'cat,dog,grass' IMAGE\n", argv[0]);
        return 2;
    }
    fs_segmenter_t seg = NULL;
    fs_result_t result = NULL;
    fs_segmenter_options options = fs_segmenter_options_default();
    options.cache_dir = "";  /* vocabulary cache in memory only */
    if (fs_segmenter_create(argv[1], &options, &seg) != FS_OK ||
        fs_segmenter_set_vocabulary_text(seg, argv[2]) != FS_OK ||
        fs_segment_file(seg, argv[3], FS_TASK_PANOPTIC, &result) != FS_OK) {
        fprintf(stderr, "frozenseg: %s\n", fs_last_error());
        fs_segmenter_destroy(seg);
        return 1;
    }
    const fs_segment_info* segments = NULL;
    size_t n = 0;
    fs_result_panoptic(result, &segments, &n);
    for (size_t i = 0; i < n; ++i)
        printf("segment %d: %s (score %.3f)\n", segments[i].id,
               fs_result_class_name(result, (size_t)segments[i].category_id), segments[i].score);
    fs_result_release(result);
    fs_segmenter_destroy(seg);
    return 0;
}
