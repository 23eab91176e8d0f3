-- Read queries as applications and their ORMs send them, for `npm run bench:coverage`: what share
-- Rotor can register. Every query runs against schema.sql (database coverage_app).
--
-- Format: each entry starts with a line `-- @source: shape` (source = the ORM or application that
-- sends it, shape = a short label); the statement follows and ends with `;` at the end of a line.
-- Other comment lines are ignored. Each statement is spelled as its ORM writes it (quoting, case,
-- aliases, `LIMIT 21`, `1=1`); `?` marks a value that changes from one request to the next,
-- whether the driver binds it (Laravel, Prisma) or writes it into the text (Rails, Django,
-- Sequelize, WordPress, Laravel's eager-load keys: Rotor's fingerprint reads those back as `?`),
-- and literals are constants of the application's code. That is the text an operator registers.

-- Rails / ActiveRecord (mysql2 adapter: prepared_statements off, values inlined) -------------------

-- @rails: point pk
SELECT `posts`.* FROM `posts` WHERE `posts`.`id` = ? LIMIT 1;
-- @rails: point unique
SELECT `users`.* FROM `users` WHERE `users`.`email` = ? LIMIT 1;
-- @rails: point pk (current_user)
SELECT `users`.* FROM `users` WHERE `users`.`id` = ? LIMIT 1;
-- @rails: fk list (has_many)
SELECT `comments`.* FROM `comments` WHERE `comments`.`post_id` = ?;
-- @rails: IN list (includes)
SELECT `users`.* FROM `users` WHERE `users`.`id` IN (?, ?, ?, ?, ?);
-- @rails: fk top-k offset (kaminari)
SELECT `posts`.* FROM `posts` WHERE `posts`.`user_id` = ? ORDER BY `posts`.`created_at` DESC LIMIT 25 OFFSET 0;
-- @rails: count by fk
SELECT COUNT(*) FROM `posts` WHERE `posts`.`user_id` = ?;
-- @rails: exists (uniqueness validation)
SELECT 1 AS one FROM `users` WHERE `users`.`email` = ? LIMIT 1;
-- @rails: point soft-delete scope
SELECT `posts`.* FROM `posts` WHERE `posts`.`deleted_at` IS NULL AND `posts`.`slug` = ? LIMIT 1;
-- @rails: has_many through join
SELECT `tags`.* FROM `tags` INNER JOIN `post_tags` ON `tags`.`id` = `post_tags`.`tag_id` WHERE `post_tags`.`post_id` = ?;
-- @rails: belongs_to point
SELECT `categories`.* FROM `categories` WHERE `categories`.`id` = ? LIMIT 1;
-- @rails: roots ordered
SELECT `categories`.* FROM `categories` WHERE `categories`.`parent_id` IS NULL ORDER BY `categories`.`position` ASC;
-- @rails: children ordered
SELECT `categories`.* FROM `categories` WHERE `categories`.`parent_id` = ? ORDER BY `categories`.`position` ASC;
-- @rails: group count
SELECT COUNT(*) AS `count_all`, `posts`.`status` AS `posts_status` FROM `posts` GROUP BY `posts`.`status`;
-- @rails: sum by fk
SELECT SUM(`order_items`.`quantity`) FROM `order_items` WHERE `order_items`.`order_id` = ?;
-- @rails: pluck filtered
SELECT `users`.`id` FROM `users` WHERE `users`.`active` = TRUE;
-- @rails: batch range (find_each)
SELECT `posts`.* FROM `posts` WHERE `posts`.`id` > ? ORDER BY `posts`.`id` ASC LIMIT 1000;
-- @rails: eager_load left join
SELECT `posts`.`id` AS t0_r0, `posts`.`title` AS t0_r1, `comments`.`id` AS t1_r0, `comments`.`body` AS t1_r1 FROM `posts` LEFT OUTER JOIN `comments` ON `comments`.`post_id` = `posts`.`id` WHERE `posts`.`id` = ?;
-- @rails: first by pk
SELECT `orders`.* FROM `orders` WHERE `orders`.`user_id` = ? ORDER BY `orders`.`id` ASC LIMIT 1;
-- @rails: locking read
SELECT `products`.* FROM `products` WHERE `products`.`id` = ? LIMIT 1 FOR UPDATE;

-- Django ORM (mysqlclient, values inlined) ------------------------------------------------------

-- @django: get() pk
SELECT `posts`.`id`, `posts`.`user_id`, `posts`.`title`, `posts`.`slug`, `posts`.`body`, `posts`.`created_at` FROM `posts` WHERE `posts`.`id` = ? LIMIT 21;
-- @django: get() unique
SELECT `users`.`id`, `users`.`username`, `users`.`email`, `users`.`active` FROM `users` WHERE `users`.`username` = ? LIMIT 21;
-- @django: filter fk ordered
SELECT `comments`.`id`, `comments`.`post_id`, `comments`.`user_id`, `comments`.`body`, `comments`.`created_at` FROM `comments` WHERE `comments`.`post_id` = ? ORDER BY `comments`.`created_at` ASC;
-- @django: first()
SELECT `orders`.`id`, `orders`.`status`, `orders`.`total` FROM `orders` WHERE `orders`.`user_id` = ? ORDER BY `orders`.`id` ASC LIMIT 1;
-- @django: __in
SELECT `products`.`id`, `products`.`name`, `products`.`price` FROM `products` WHERE `products`.`id` IN (?, ?, ?);
-- @django: select_related join
SELECT `posts`.`id`, `posts`.`title`, `users`.`id`, `users`.`username` FROM `posts` INNER JOIN `users` ON (`posts`.`user_id` = `users`.`id`) WHERE `posts`.`id` = ? LIMIT 21;
-- @django: prefetch_related m2m
SELECT (`post_tags`.`post_id`) AS `_prefetch_related_val_post_id`, `tags`.`id`, `tags`.`name`, `tags`.`slug` FROM `tags` INNER JOIN `post_tags` ON (`tags`.`id` = `post_tags`.`tag_id`) WHERE `post_tags`.`post_id` IN (?, ?, ?);
-- @django: exists()
SELECT 1 AS `a` FROM `votes` WHERE (`votes`.`post_id` = ? AND `votes`.`user_id` = ?) LIMIT 1;
-- @django: count()
SELECT COUNT(*) AS `__count` FROM `comments` WHERE `comments`.`post_id` = ?;
-- @django: paginator page
SELECT `posts`.`id`, `posts`.`title`, `posts`.`created_at` FROM `posts` WHERE `posts`.`published` ORDER BY `posts`.`created_at` DESC LIMIT 20 OFFSET 40;
-- @django: Q OR two columns
SELECT `posts`.`id`, `posts`.`title` FROM `posts` WHERE (`posts`.`user_id` = ? OR `posts`.`category_id` = ?);
-- @django: icontains
SELECT `tags`.`id`, `tags`.`name` FROM `tags` WHERE `tags`.`name` LIKE ? ORDER BY `tags`.`name` ASC;
-- @django: annotate Count join
SELECT `posts`.`id`, `posts`.`title`, COUNT(`comments`.`id`) AS `comments__count` FROM `posts` LEFT OUTER JOIN `comments` ON (`posts`.`id` = `comments`.`post_id`) WHERE `posts`.`user_id` = ? GROUP BY `posts`.`id`, `posts`.`title`;
-- @django: TruncMonth revenue
SELECT CAST(DATE_FORMAT(`orders`.`created_at`, '%Y-%m-01 00:00:00') AS DATETIME) AS `month`, SUM(`orders`.`total`) AS `revenue` FROM `orders` GROUP BY 1 ORDER BY 1 ASC;
-- @django: Exists annotation
SELECT `posts`.`id`, `posts`.`title`, EXISTS(SELECT 1 AS `a` FROM `votes` U0 WHERE (U0.`post_id` = (`posts`.`id`) AND U0.`user_id` = ?) LIMIT 1) AS `voted` FROM `posts` WHERE `posts`.`category_id` = ?;

-- Laravel / Eloquent (PDO, native prepares: ?; eager-load integer keys inlined) ----------------

-- @laravel: find
select * from `posts` where `posts`.`id` = ? limit 1;
-- @laravel: first without order
select * from `users` where `email` = ? limit 1;
-- @laravel: hasMany
select * from `comments` where `comments`.`post_id` = ? and `comments`.`post_id` is not null;
-- @laravel: eager load IN (raw ints)
select * from `users` where `users`.`id` in (?, ?, ?, ?, ?);
-- @laravel: belongsToMany pivot
select `tags`.*, `post_tags`.`post_id` as `pivot_post_id`, `post_tags`.`tag_id` as `pivot_tag_id` from `tags` inner join `post_tags` on `tags`.`id` = `post_tags`.`tag_id` where `post_tags`.`post_id` in (?, ?, ?);
-- @laravel: paginate count
select count(*) as aggregate from `posts` where `published` = ? and `posts`.`deleted_at` is null;
-- @laravel: paginate page
select * from `posts` where `published` = ? and `posts`.`deleted_at` is null order by `created_at` desc limit 15 offset 0;
-- @laravel: withCount subquery
select `posts`.*, (select count(*) from `comments` where `posts`.`id` = `comments`.`post_id`) as `comments_count` from `posts` where `posts`.`user_id` = ? and `posts`.`deleted_at` is null;
-- @laravel: whereHas exists
select * from `posts` where exists (select * from `comments` where `posts`.`id` = `comments`.`post_id` and `approved` = ?) and `posts`.`deleted_at` is null;
-- @laravel: cursorPaginate keyset
select * from `posts` where (`id` < ?) and `posts`.`deleted_at` is null order by `id` desc limit 16;
-- @laravel: exists()
select exists(select * from `users` where `email` = ?) as `exists`;
-- @laravel: value()
select `name` from `users` where `id` = ? limit 1;
-- @laravel: pluck all
select `name`, `id` from `tags`;
-- @laravel: whereIn bindings
select * from `products` where `sku` in (?, ?, ?) and `active` = ?;
-- @laravel: latest limit
select * from `orders` where `orders`.`user_id` = ? and `orders`.`user_id` is not null order by `created_at` desc limit 5;
-- @laravel: sum
select sum(`total`) as aggregate from `orders` where `user_id` = ? and `status` = ?;

-- Prisma (prepared, database-qualified) -----------------------------------------------------------

-- @prisma: findUnique
SELECT `coverage_app`.`users`.`id`, `coverage_app`.`users`.`email`, `coverage_app`.`users`.`name` FROM `coverage_app`.`users` WHERE (`coverage_app`.`users`.`id` = ? AND 1=1) LIMIT ? OFFSET ?;
-- @prisma: findUnique by unique
SELECT `coverage_app`.`posts`.`id`, `coverage_app`.`posts`.`title`, `coverage_app`.`posts`.`user_id` FROM `coverage_app`.`posts` WHERE (`coverage_app`.`posts`.`slug` = ? AND 1=1) LIMIT ? OFFSET ?;
-- @prisma: include relation IN
SELECT `coverage_app`.`posts`.`id`, `coverage_app`.`posts`.`title`, `coverage_app`.`posts`.`user_id` FROM `coverage_app`.`posts` WHERE `coverage_app`.`posts`.`user_id` IN (?,?,?);
-- @prisma: findMany orderBy take
SELECT `coverage_app`.`posts`.`id`, `coverage_app`.`posts`.`title`, `coverage_app`.`posts`.`created_at` FROM `coverage_app`.`posts` WHERE `coverage_app`.`posts`.`published` = ? ORDER BY `coverage_app`.`posts`.`created_at` DESC LIMIT ? OFFSET ?;
-- @prisma: count via derived table
SELECT COUNT(*) AS `_count._all` FROM (SELECT `coverage_app`.`posts`.`id` FROM `coverage_app`.`posts` WHERE `coverage_app`.`posts`.`user_id` = ? LIMIT ? OFFSET ?) AS `sub`;
-- @prisma: cursor pagination
SELECT `coverage_app`.`posts`.`id`, `coverage_app`.`posts`.`title` FROM `coverage_app`.`posts` WHERE `coverage_app`.`posts`.`id` <= (SELECT `coverage_app`.`posts`.`id` FROM `coverage_app`.`posts` WHERE (`coverage_app`.`posts`.`id`) = (?)) ORDER BY `coverage_app`.`posts`.`id` DESC LIMIT ? OFFSET ?;
-- @prisma: groupBy count
SELECT `coverage_app`.`orders`.`status`, COUNT(`coverage_app`.`orders`.`id`) AS `_count.id` FROM `coverage_app`.`orders` WHERE 1=1 GROUP BY `coverage_app`.`orders`.`status`;
-- @prisma: relation filter some
SELECT `coverage_app`.`users`.`id`, `coverage_app`.`users`.`name` FROM `coverage_app`.`users` WHERE (`coverage_app`.`users`.`id`) IN (SELECT `t1`.`user_id` FROM `coverage_app`.`posts` AS `t1` WHERE (`t1`.`published` = ? AND `t1`.`user_id` IS NOT NULL));
-- @prisma: findFirst ordered
SELECT `coverage_app`.`comments`.`id`, `coverage_app`.`comments`.`body` FROM `coverage_app`.`comments` WHERE `coverage_app`.`comments`.`post_id` = ? ORDER BY `coverage_app`.`comments`.`id` ASC LIMIT ? OFFSET ?;
-- @prisma: aggregate sum
SELECT SUM(`sub`.`quantity`) AS `_sum.quantity` FROM (SELECT `coverage_app`.`order_items`.`quantity` FROM `coverage_app`.`order_items` WHERE `coverage_app`.`order_items`.`order_id` = ?) AS `sub`;

-- Sequelize (mysql2, values escaped into the text) ------------------------------------------------

-- @sequelize: findByPk
SELECT `id`, `title`, `body`, `user_id` AS `userId`, `created_at` AS `createdAt` FROM `posts` AS `Post` WHERE `Post`.`id` = ?;
-- @sequelize: findOne without order
SELECT `id`, `email`, `username` FROM `users` AS `User` WHERE `User`.`email` = ? LIMIT 1;
-- @sequelize: findAll fk
SELECT `id`, `body`, `post_id` AS `postId` FROM `comments` AS `Comment` WHERE `Comment`.`post_id` = ? ORDER BY `Comment`.`created_at` DESC;
-- @sequelize: paranoid point
SELECT `id`, `title` FROM `posts` AS `Post` WHERE (`Post`.`deleted_at` IS NULL AND `Post`.`id` = ?);
-- @sequelize: include belongsTo
SELECT `Post`.`id`, `Post`.`title`, `author`.`id` AS `author.id`, `author`.`username` AS `author.username` FROM `posts` AS `Post` LEFT OUTER JOIN `users` AS `author` ON `Post`.`user_id` = `author`.`id` WHERE `Post`.`id` = ?;
-- @sequelize: include hasMany with limit
SELECT `Post`.*, `comments`.`id` AS `comments.id`, `comments`.`body` AS `comments.body` FROM (SELECT `Post`.`id`, `Post`.`title`, `Post`.`created_at` FROM `posts` AS `Post` WHERE `Post`.`user_id` = ? ORDER BY `Post`.`created_at` DESC LIMIT 10) AS `Post` LEFT OUTER JOIN `comments` AS `comments` ON `Post`.`id` = `comments`.`post_id` ORDER BY `Post`.`created_at` DESC;
-- @sequelize: count
SELECT count(*) AS `count` FROM `orders` AS `Order` WHERE `Order`.`user_id` = ?;
-- @sequelize: Op.in
SELECT `id`, `name`, `price` FROM `products` AS `Product` WHERE `Product`.`category_id` IN (?, ?, ?) AND `Product`.`active` = true;
-- @sequelize: Op.gte time window
SELECT `id`, `total` FROM `orders` AS `Order` WHERE `Order`.`user_id` = ? AND `Order`.`created_at` >= ?;
-- @sequelize: findAll limit offset
SELECT `id`, `title` FROM `posts` AS `Post` WHERE `Post`.`category_id` = ? ORDER BY `Post`.`id` DESC LIMIT 20, 20;

-- TypeORM (mysql2) -------------------------------------------------------------------------------

-- @typeorm: findOneBy
SELECT `User`.`id` AS `User_id`, `User`.`email` AS `User_email`, `User`.`name` AS `User_name` FROM `users` `User` WHERE ((`User`.`id` = ?)) LIMIT 1;
-- @typeorm: find relations join
SELECT `Post`.`id` AS `Post_id`, `Post`.`title` AS `Post_title`, `Post__Post_author`.`id` AS `Post__Post_author_id`, `Post__Post_author`.`username` AS `Post__Post_author_username` FROM `posts` `Post` LEFT JOIN `users` `Post__Post_author` ON `Post__Post_author`.`id`=`Post`.`user_id` WHERE ((`Post`.`id` = ?));
-- @typeorm: find order take
SELECT `Post`.`id` AS `Post_id`, `Post`.`title` AS `Post_title` FROM `posts` `Post` WHERE ((`Post`.`user_id` = ?)) ORDER BY `Post`.`created_at` DESC LIMIT 10;
-- @typeorm: In()
SELECT `Tag`.`id` AS `Tag_id`, `Tag`.`name` AS `Tag_name` FROM `tags` `Tag` WHERE ((`Tag`.`id` IN (?, ?, ?)));
-- @typeorm: count
SELECT COUNT(1) AS `cnt` FROM `comments` `Comment` WHERE ((`Comment`.`post_id` = ?));
-- @typeorm: exists
SELECT 1 AS `row_exists` FROM (SELECT 1 AS dummy_column) `dummy_table` WHERE EXISTS (SELECT 1 FROM `votes` `Vote` WHERE ((`Vote`.`post_id` = ?) AND (`Vote`.`user_id` = ?))) LIMIT 1;
-- @typeorm: query builder join
SELECT `post`.`id` AS `post_id`, `post`.`title` AS `post_title`, `category`.`name` AS `category_name` FROM `posts` `post` INNER JOIN `categories` `category` ON `category`.`id`=`post`.`category_id` WHERE `post`.`published` = ? ORDER BY `post`.`published_at` DESC LIMIT 20;
-- @typeorm: pagination with relations (distinct ids)
SELECT DISTINCT `distinctAlias`.`Post_id` AS `ids_Post_id`, `distinctAlias`.`Post_created_at` FROM (SELECT `Post`.`id` AS `Post_id`, `Post`.`created_at` AS `Post_created_at`, `Post__Post_comments`.`id` AS `Post__Post_comments_id` FROM `posts` `Post` LEFT JOIN `comments` `Post__Post_comments` ON `Post__Post_comments`.`post_id`=`Post`.`id` WHERE ((`Post`.`user_id` = ?))) `distinctAlias` ORDER BY `distinctAlias`.`Post_created_at` DESC, `Post_id` ASC LIMIT 10;
-- @typeorm: soft delete scope
SELECT `Post`.`id` AS `Post_id`, `Post`.`title` AS `Post_title` FROM `posts` `Post` WHERE ((`Post`.`slug` = ?)) AND (`Post`.`deleted_at` IS NULL) LIMIT 1;

-- Knex ------------------------------------------------------------------------------------------

-- @knex: first()
select * from `users` where `id` = ? limit ?;
-- @knex: where fk
select `id`, `body`, `created_at` from `comments` where `post_id` = ? order by `created_at` asc;
-- @knex: whereIn
select * from `products` where `id` in (?, ?, ?, ?);
-- @knex: join
select `posts`.* from `posts` inner join `users` on `users`.`id` = `posts`.`user_id` where `users`.`username` = ?;
-- @knex: count as
select count(*) as `total` from `posts` where `user_id` = ?;
-- @knex: order limit offset
select * from `posts` where `category_id` = ? order by `created_at` desc limit ? offset ?;
-- @knex: whereBetween
select `id`, `total` from `orders` where `created_at` between ? and ?;
-- @knex: orWhere same column
select * from `posts` where `user_id` = ? or `user_id` = ?;
-- @knex: whereNull
select * from `comments` where `post_id` = ? and `parent_id` is null order by `id` asc;
-- @knex: max
select max(`id`) as `max` from `orders` where `user_id` = ?;

-- Kysely (mysql2) -------------------------------------------------------------------------------

-- @kysely: selectAll by id
select * from `users` where `id` = ?;
-- @kysely: limit param
select `id`, `title`, `created_at` from `posts` where `user_id` = ? order by `created_at` desc limit ?;
-- @kysely: in list
select `id`, `name` from `tags` where `id` in (?, ?, ?);
-- @kysely: inner join
select `posts`.`id`, `posts`.`title`, `users`.`username` from `posts` inner join `users` on `users`.`id` = `posts`.`user_id` where `posts`.`id` = ?;
-- @kysely: count
select count(`id`) as `count` from `votes` where `post_id` = ?;
-- @kysely: json_arrayagg subquery (MariaDB form)
select `posts`.`id`, `posts`.`title`, (select coalesce(json_arrayagg(json_object('id', `c`.`id`, 'body', `c`.`body`)), '[]') from `comments` as `c` where `c`.`post_id` = `posts`.`id`) as `comments` from `posts` where `posts`.`id` = ?;
-- @kysely: keyset
select `id`, `title` from `posts` where `id` < ? order by `id` desc limit ?;
-- @kysely: executeTakeFirst
select `id`, `email` from `users` where `email` = ?;

-- Drizzle (mysql2) ------------------------------------------------------------------------------

-- @drizzle: findFirst
select `id`, `title`, `user_id` from `posts` where `posts`.`id` = ? limit ?;
-- @drizzle: select where
select `id`, `email`, `username` from `users` where `users`.`username` = ?;
-- @drizzle: left join
select `posts`.`id`, `posts`.`title`, `users`.`id`, `users`.`username` from `posts` left join `users` on `posts`.`user_id` = `users`.`id` where `posts`.`id` = ?;
-- @drizzle: inArray
select `id`, `name`, `price` from `products` where `products`.`id` in (?, ?, ?);
-- @drizzle: count()
select count(*) from `comments` where `comments`.`post_id` = ?;
-- @drizzle: orderBy desc limit
select `id`, `title` from `posts` where `posts`.`category_id` = ? order by `posts`.`created_at` desc limit ?;
-- @drizzle: relational with (json)
select `posts`.`id`, `posts`.`title`, (select coalesce(json_arrayagg(json_array(`posts_comments`.`id`, `posts_comments`.`body`)), json_array()) from `comments` `posts_comments` where `posts_comments`.`post_id` = `posts`.`id`) as `comments` from `posts` where `posts`.`id` = ? limit ?;
-- @drizzle: and eq
select `id`, `value` from `votes` where (`votes`.`post_id` = ? and `votes`.`user_id` = ?);

-- Hibernate / Spring Data JPA (MariaDB dialect) --------------------------------------------------

-- @hibernate: findById
select p1_0.id,p1_0.body,p1_0.created_at,p1_0.title,p1_0.user_id from posts p1_0 where p1_0.id=?;
-- @hibernate: findByEmail
select u1_0.id,u1_0.email,u1_0.name,u1_0.username from users u1_0 where u1_0.email=?;
-- @hibernate: one-to-many lazy load
select c1_0.post_id,c1_0.id,c1_0.body,c1_0.created_at from comments c1_0 where c1_0.post_id=?;
-- @hibernate: batch fetch IN (padded)
select u1_0.id,u1_0.email,u1_0.username from users u1_0 where u1_0.id in (?,?,?,?);
-- @hibernate: join fetch
select p1_0.id,c1_0.post_id,c1_0.id,c1_0.body,p1_0.title from posts p1_0 left join comments c1_0 on p1_0.id=c1_0.post_id where p1_0.id=?;
-- @hibernate: Page query
select p1_0.id,p1_0.title,p1_0.created_at from posts p1_0 where p1_0.user_id=? order by p1_0.created_at desc limit ?,?;
-- @hibernate: Page count
select count(p1_0.id) from posts p1_0 where p1_0.user_id=?;
-- @hibernate: existsBy
select p1_0.id from posts p1_0 where p1_0.slug=? limit ?;
-- @hibernate: many-to-one join
select o1_0.id,o1_0.status,o1_0.total,u1_0.id,u1_0.email from orders o1_0 join users u1_0 on u1_0.id=o1_0.user_id where o1_0.id=?;
-- @hibernate: order items of order
select oi1_0.order_id,oi1_0.id,oi1_0.product_id,oi1_0.quantity,oi1_0.unit_price from order_items oi1_0 where oi1_0.order_id=?;

-- WordPress (wpdb, values escaped into the text) --------------------------------------------------

-- @wordpress: get_option
SELECT option_value FROM wp_options WHERE option_name = ? LIMIT 1;
-- @wordpress: autoloaded options
SELECT option_name, option_value FROM wp_options WHERE autoload IN ( 'yes', 'on', 'auto-on', 'auto' );
-- @wordpress: get_post
SELECT * FROM wp_posts WHERE ID = ? LIMIT 1;
-- @wordpress: prime post caches
SELECT wp_posts.* FROM wp_posts WHERE ID IN (?,?,?);
-- @wordpress: update_meta_cache
SELECT post_id, meta_key, meta_value FROM wp_postmeta WHERE post_id IN (?,?,?) ORDER BY meta_id ASC;
-- @wordpress: main loop
SELECT SQL_CALC_FOUND_ROWS  wp_posts.ID FROM wp_posts  WHERE 1=1  AND ((wp_posts.post_type = 'post' AND (wp_posts.post_status = 'publish' OR wp_posts.post_status = 'private')))  ORDER BY wp_posts.post_date DESC LIMIT 0, 10;
-- @wordpress: found rows
SELECT FOUND_ROWS();
-- @wordpress: meta_query join
SELECT wp_posts.ID FROM wp_posts  INNER JOIN wp_postmeta ON ( wp_posts.ID = wp_postmeta.post_id ) WHERE 1=1  AND ( ( wp_postmeta.meta_key = '_thumbnail_id' ) ) AND ((wp_posts.post_type = 'post' AND (wp_posts.post_status = 'publish'))) GROUP BY wp_posts.ID ORDER BY wp_posts.post_date DESC LIMIT 0, 10;
-- @wordpress: get_page_by_path
SELECT ID, post_name, post_parent, post_type FROM wp_posts WHERE post_name IN (?) AND post_type IN ('page','attachment');
-- @wordpress: wp_count_posts
SELECT post_status, COUNT( * ) AS num_posts FROM wp_posts WHERE post_type = 'post' GROUP BY post_status;
-- @wordpress: archives by month
SELECT YEAR(post_date) AS `year`, MONTH(post_date) AS `month`, count(ID) as posts FROM wp_posts  WHERE post_type = 'post' AND post_status = 'publish' GROUP BY YEAR(post_date), MONTH(post_date) ORDER BY post_date DESC;
-- @wordpress: attachments of post
SELECT * FROM wp_posts WHERE post_parent = ? AND post_type = 'attachment' ORDER BY menu_order ASC, ID ASC;
-- @wordpress: adjacent post
SELECT p.ID FROM wp_posts AS p  WHERE p.post_date < ? AND p.post_type = 'post' AND ( p.post_status = 'publish' OR p.post_status = 'private' )  ORDER BY p.post_date DESC LIMIT 1;
-- @wordpress: post meta by key
SELECT meta_value FROM wp_postmeta WHERE post_id = ? AND meta_key = '_wp_page_template';

-- Dashboards and reports (hand-written SQL, BI tools) -----------------------------------------

-- @dashboard: signups per day
SELECT DATE(created_at) AS day, COUNT(*) AS signups FROM users WHERE created_at >= ? GROUP BY DATE(created_at) ORDER BY day;
-- @dashboard: revenue per month
SELECT DATE_FORMAT(created_at, '%Y-%m') AS month, SUM(total) AS revenue, COUNT(*) AS orders FROM orders WHERE status = 'paid' GROUP BY DATE_FORMAT(created_at, '%Y-%m') ORDER BY month;
-- @dashboard: orders by status
SELECT status, COUNT(*) AS n, SUM(total) AS amount FROM orders GROUP BY status;
-- @dashboard: top products
SELECT p.id, p.name, SUM(oi.quantity) AS sold, SUM(oi.quantity * oi.unit_price) AS revenue FROM order_items oi JOIN products p ON p.id = oi.product_id GROUP BY p.id, p.name ORDER BY sold DESC LIMIT 10;
-- @dashboard: active users last 7 days
SELECT COUNT(*) FROM users WHERE last_login_at >= NOW() - INTERVAL 7 DAY;
-- @dashboard: average order value per user
SELECT user_id, COUNT(*) AS orders, AVG(total) AS avg_total FROM orders GROUP BY user_id HAVING COUNT(*) > 1 ORDER BY avg_total DESC LIMIT 20;
-- @dashboard: order size buckets
SELECT CASE WHEN total < 20 THEN 'small' WHEN total < 100 THEN 'medium' ELSE 'large' END AS bucket, COUNT(*) AS n FROM orders GROUP BY bucket;
-- @dashboard: distinct buyers
SELECT COUNT(DISTINCT user_id) FROM orders WHERE status = 'paid';
-- @dashboard: posts per category
SELECT c.name, COUNT(p.id) AS posts FROM categories c LEFT JOIN posts p ON p.category_id = c.id GROUP BY c.id, c.name ORDER BY posts DESC;
-- @dashboard: low stock
SELECT id, sku, name, stock FROM products WHERE active = 1 AND stock < 5 ORDER BY stock ASC;
-- @dashboard: customer lifetime value (view)
SELECT user_id, orders_count, lifetime_value FROM user_order_totals ORDER BY lifetime_value DESC LIMIT 20;
-- @dashboard: weekday activity
SELECT DAYOFWEEK(created_at) AS dow, COUNT(*) AS comments FROM comments GROUP BY DAYOFWEEK(created_at) ORDER BY dow;

-- Hand-written application SQL (feeds, APIs; mysql2 execute: ?) -------------------------------

-- @app: feed newest
SELECT id, user_id, title, created_at FROM posts WHERE published = 1 ORDER BY created_at DESC LIMIT 20;
-- @app: feed keyset
SELECT id, user_id, title, created_at FROM posts WHERE published = 1 AND id < ? ORDER BY id DESC LIMIT 20;
-- @app: user timeline
SELECT id, title, created_at FROM posts WHERE user_id = ? ORDER BY created_at DESC LIMIT 20;
-- @app: post with author
SELECT p.id, p.title, p.body, u.username, u.name FROM posts p JOIN users u ON u.id = p.user_id WHERE p.id = ?;
-- @app: vote score
SELECT SUM(value) AS score, COUNT(*) AS votes FROM votes WHERE post_id = ?;
-- @app: has voted
SELECT value FROM votes WHERE post_id = ? AND user_id = ?;
-- @app: tag page
SELECT p.id, p.title FROM posts p JOIN post_tags pt ON pt.post_id = p.id JOIN tags t ON t.id = pt.tag_id WHERE t.slug = ? ORDER BY p.created_at DESC LIMIT 20;
-- @app: hot posts expression order
SELECT id, title, score FROM posts WHERE published = 1 ORDER BY score / POW(TIMESTAMPDIFF(HOUR, created_at, NOW()) + 2, 1.8) DESC LIMIT 30;
-- @app: search like concat
SELECT id, title FROM posts WHERE title LIKE CONCAT('%', ?, '%') ORDER BY id DESC LIMIT 20;
-- @app: display name coalesce
SELECT id, COALESCE(name, username) AS display_name, LOWER(email) AS email FROM users WHERE id = ?;
-- @app: comment thread self-join
SELECT c.id, c.body, parent.body AS parent_body FROM comments c LEFT JOIN comments parent ON parent.id = c.parent_id WHERE c.post_id = ?;
-- @app: category breadcrumb recursive CTE
WITH RECURSIVE crumbs AS (SELECT id, parent_id, name, 0 AS depth FROM categories WHERE id = ? UNION ALL SELECT c.id, c.parent_id, c.name, crumbs.depth + 1 FROM categories c JOIN crumbs ON c.id = crumbs.parent_id) SELECT id, name FROM crumbs ORDER BY depth DESC;
-- @app: subcategories self-join
SELECT child.id, child.name FROM categories child JOIN categories parent ON parent.id = child.parent_id WHERE parent.slug = ?;
-- @app: posts without comments
SELECT p.id, p.title FROM posts p WHERE p.user_id = ? AND NOT EXISTS (SELECT 1 FROM comments c WHERE c.post_id = p.id);
-- @app: activity union
SELECT id, 'post' AS kind, created_at FROM posts WHERE user_id = ? UNION ALL SELECT id, 'comment' AS kind, created_at FROM comments WHERE user_id = ? ORDER BY created_at DESC LIMIT 20;
-- @app: profile counts scalar subqueries
SELECT u.id, u.username, (SELECT COUNT(*) FROM posts WHERE user_id = u.id) AS posts, (SELECT COUNT(*) FROM comments WHERE user_id = u.id) AS comments FROM users u WHERE u.id = ?;
-- @app: published view
SELECT id, title, slug FROM published_posts WHERE user_id = ? ORDER BY published_at DESC LIMIT 10;
-- @app: top posts per category CTE
WITH ranked AS (SELECT id, category_id, title, ROW_NUMBER() OVER (PARTITION BY category_id ORDER BY score DESC) AS rn FROM posts WHERE published = 1) SELECT id, category_id, title FROM ranked WHERE rn <= 3;
-- @app: cart items join
SELECT oi.product_id, p.name, oi.quantity, oi.unit_price FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE oi.order_id = ?;
-- @app: order total computed
SELECT order_id, SUM(quantity * unit_price) AS total FROM order_items WHERE order_id = ? GROUP BY order_id;
-- @app: product by sku
SELECT id, name, price, stock FROM products WHERE sku = ?;
-- @app: products of category
SELECT id, name, price FROM products WHERE category_id = ? AND active = 1 ORDER BY name ASC;
-- @app: tags of post
SELECT t.name, t.slug FROM tags t JOIN post_tags pt ON pt.tag_id = t.id WHERE pt.post_id = ?;
-- @app: comment count per post IN
SELECT post_id, COUNT(*) AS n FROM comments WHERE post_id IN (?, ?, ?) GROUP BY post_id;
-- @app: tag cloud
SELECT t.name, COUNT(*) AS n FROM post_tags pt JOIN tags t ON t.id = pt.tag_id GROUP BY t.id, t.name ORDER BY n DESC LIMIT 30;
-- @app: recent orders of user
SELECT id, status, total, created_at FROM orders WHERE user_id = ? ORDER BY created_at DESC LIMIT 10;
-- @app: price range
SELECT id, name, price FROM products WHERE price BETWEEN ? AND ? AND active = 1 ORDER BY price ASC LIMIT 50;
-- @app: posts of tags IN subquery
SELECT id, title FROM posts WHERE id IN (SELECT post_id FROM post_tags WHERE tag_id = ?) ORDER BY created_at DESC LIMIT 20;
-- @app: unread count
SELECT COUNT(*) FROM comments WHERE post_id = ? AND created_at > ?;
-- @app: username availability
SELECT COUNT(*) FROM users WHERE LOWER(username) = LOWER(?);
