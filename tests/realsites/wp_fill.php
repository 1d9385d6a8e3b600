<?php
// Installs a fresh WordPress into the docroot that tests/realsites/wordpress.py prepared and
// fills it with the test's posts. Run by PHP's CLI: php wp_fill.php <docroot> <spec.json>.
// Prints a JSON object {"version": …, "posts": {title: permalink}} on success.
// Only WordPress's own public API is called (wp_install, wp_insert_post, update_option).

$docroot = $argv[1];
$spec = json_decode(file_get_contents($argv[2]), true);

// The database first: wp-load.php refuses to start without one.
$db = new mysqli($spec['db_host'], $spec['db_user'], $spec['db_password'], '', $spec['db_port']);
$db->query('CREATE DATABASE `' . $spec['db_name'] . '` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci');
$db->close();

define('WP_INSTALLING', true);
$parts = parse_url($spec['url']);
$_SERVER['HTTP_HOST'] = $parts['host'] . ':' . $parts['port'];
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
require $docroot . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';

wp_install($spec['title'], 'admin', 'admin@desa.invalid', true, '', wp_generate_password(24));
update_option('siteurl', $spec['url']);
update_option('home', $spec['url']);
update_option('blogdescription', $spec['tagline']);
update_option('timezone_string', 'Asia/Jakarta');
update_option('posts_per_page', $spec['posts_per_page']);
update_option('posts_per_rss', 10);
update_option('default_comment_status', 'closed');
if (!empty($spec['theme'])) {
    switch_theme($spec['theme']);
}
global $wp_rewrite;
$wp_rewrite->set_permalink_structure('/%year%/%monthnum%/%day%/%postname%/');
$wp_rewrite->flush_rules(false);

// wp_install's "Hello world!" post and its comment would be news the test did not write.
foreach (get_posts(['post_type' => 'post', 'post_status' => 'any', 'numberposts' => -1]) as $p) {
    wp_delete_post($p->ID, true);
}

// Post bodies are stored as given: an attacker writes to the database, not through the editor.
kses_remove_filters();
$made = [];
foreach ($spec['posts'] as $post) {
    $term = term_exists($post['category'], 'category');
    if (!$term) {
        $term = wp_insert_term($post['category'], 'category');
    }
    $id = wp_insert_post([
        'post_title' => $post['title'],
        'post_content' => $post['content'],
        'post_status' => 'publish',
        'post_type' => 'post',
        'post_author' => 1,
        'post_date' => $post['date'],
        'post_date_gmt' => $post['date_gmt'],
        'post_category' => [(int) $term['term_id']],
    ], true);
    if (is_wp_error($id)) {
        fwrite(STDERR, $id->get_error_message() . "\n");
        exit(1);
    }
    $made[$post['title']] = get_permalink($id);
}
echo json_encode(['version' => get_bloginfo('version'), 'posts' => $made]);
